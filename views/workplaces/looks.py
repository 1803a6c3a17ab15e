"""What every page's template may use: Russian dates and amounts as filters, and the
menu's counts of waiting work (a badge beside a menu item, from `COUNTERS`)."""

from __future__ import annotations

from flask import current_app, g
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models.cabinet import CALL_STATES
from models.cabinet_orders import ADDON_STATES, ORDER_STATES
from models.vouchers import VOUCHER_STATES
from security.effective import current
from services.workplaces import queue
from views.formatters import _date, _datetime

#: menu name -> (kind of open item in services.workplaces.queue); the badge shows the
#: user's open items of that kind (kinds whose right he lacks count nothing).
COUNTERS = {
    "CabinetQuestions": "question",
    "CabinetCourier": "courier",
    "CabinetConsumables": "consumables",
    "CabinetAddons": "addon",
}
QUEUE_KINDS = {"question": _l("Вопрос"), "courier": _l("Вызов курьера"),
               "consumables": _l("Заказ расходных материалов"), "addon": _l("Дозаказ тестов")}
QUEUE_STATES = {"courier": CALL_STATES, "consumables": ORDER_STATES, "addon": ADDON_STATES}

#: Whose menu carries the counts: those who work the clients' requests.
QUEUE_RIGHT = "cabinet.manager_cabinet"


def money(value) -> str:
    """Return an amount as people read it: 5 400,00 (blank for none)."""
    return "" if value is None else format_decimal(value, format="#,##0.00")


def menu_counts() -> dict[str, int]:
    """Return {menu name: open items} for the signed-in user (computed once a request);
    {} for anyone who does not work the queue."""
    if "uchet_menu_counts" in g:
        return g.uchet_menu_counts
    counts: dict[str, int] = {}
    user = getattr(g, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        rights = current()
        if rights.allows(QUEUE_RIGHT):
            open_items = queue.open_counts(current_app.appbuilder.session, rights)
            counts = {name: open_items[kind] for name, kind in COUNTERS.items()
                      if open_items.get(kind)}
    g.uchet_menu_counts = counts
    return counts


def queue_kind(kind: str) -> str:
    """Return the name of a kind of client request."""
    return str(QUEUE_KINDS.get(kind, kind))


def queue_state(kind: str, row) -> str:
    """Return the state of a client request as its page names it."""
    if kind == "question":
        return _("Ждёт ответа")
    return str(QUEUE_STATES[kind].get(row.state, row.state))


def voucher_state(code: str) -> str:
    """Return the label of a voucher's state."""
    return str(VOUCHER_STATES.get(code, code))


def install(app) -> None:
    """Give the templates `ru_date`, `ru_datetime`, `money` and `menu_counts()`."""
    app.jinja_env.filters["ru_date"] = _date
    app.jinja_env.filters["ru_datetime"] = _datetime
    app.jinja_env.filters["money"] = money
    app.jinja_env.globals.update(menu_counts=menu_counts, queue_kind=queue_kind,
                                 queue_state=queue_state, voucher_state=voucher_state)
