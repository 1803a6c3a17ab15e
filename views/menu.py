"""Menu categories, in display order. Views name a category key from here."""

from flask_babel import lazy_gettext as _l

CATEGORIES = {
    "refbooks": {"label": _l("Справочники"), "icon": "fa-book"},
    "pricelist": {"label": _l("Прейскурант"), "icon": "fa-rub"},
    "patients": {"label": _l("Пациенты"), "icon": "fa-user-md"},
    "contracts": {"label": _l("Организации и договоры"), "icon": "fa-handshake-o"},
    "documents": {"label": _l("Документы"), "icon": "fa-file-text-o"},
    "cabinet": {"label": _l("Личный кабинет"), "icon": "fa-briefcase"},
    "org": {"label": _l("Организация"), "icon": "fa-sitemap"},
    "admin": {"label": _l("Администрирование"), "icon": "fa-cogs"},
}
