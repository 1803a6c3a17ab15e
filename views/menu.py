"""The menu: categories in display order (views name a category key from here),
and the order of the view modules within a category."""

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

# Within a category, items come in the order their modules load: these first, in
# this order, then every other module of `views` alphabetically (`views.load_all`
# finds them). Only a module whose items must come before others is listed.
MENU_ORDER = (
    "views.refbooks.books",
    "views.refbooks.pricelist",
    "views.imports.prices",
    "views.imports.screens",
    "views.contracts.patients",
    "views.refbooks.staff",
    "views.contracts.parties",
    "views.contracts.contracts",
    "views.contracts.instalments",
    "views.vouchers.vouchers",
    "views.vouchers.referrals",
    "views.invoices.lists",
    "views.admin.parameters",
    "views.cabinet.stats",
    "views.cabinet.requests",
    "views.cabinet.orders",
    "views.cabinet.manager",
    "views.cabinet.forms",
    "views.cabinet.documents",
    "views.admin.org",
    "views.admin.users",
    "views.admin.rights",
    "views.admin.journal",
    "views.admin.security_log",
)
