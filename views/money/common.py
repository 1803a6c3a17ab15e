"""What the money screens share: amounts as people read them (4 100,00), the
cashier's name on the receipts, and the key a form carries for its operation."""

from __future__ import annotations

from flask import g, request
from flask_babel import format_datetime, format_decimal
from flask_babel import gettext as _

from models.money import RECEIPT_KINDS, RECEIPT_STATES, SHIFT_STATES, TRANSACTION_KINDS
from services.money.accounts import new_key


def rub(value) -> str:
    """Return an amount as 4 100,00 (in the user's language)."""
    return "" if value is None else format_decimal(value, format="#,##0.00")


def cashier() -> str:
    """Return the name printed on receipts: the signed-in user's."""
    user = getattr(g, "user", None)
    return f"{user.last_name} {user.first_name}".strip() if user is not None else ""


def form_key() -> str:
    """Return the idempotency key the posted form carried (a retry after a refusal
    or a timeout shows the form again with it), or a new one."""
    return (request.form.get("key") or "").strip()[:60] or new_key()


def context() -> dict:
    """Return the names every money template uses."""
    return {"rub": rub, "when": lambda v: format_datetime(v, "dd.MM.yyyy HH:mm") if v else "",
            "tx_kinds": TRANSACTION_KINDS, "receipt_kinds": RECEIPT_KINDS,
            "receipt_states": RECEIPT_STATES, "shift_states": SHIFT_STATES, "new_key": new_key}


def int_arg(name: str, source=None) -> int | None:
    """Return an integer argument of the request (form or query), None if absent or
    not a number of a sane size."""
    raw = (source or request.values).get(name, "")
    return int(raw) if str(raw).isdecimal() and len(str(raw)) < 10 else None


def done_message(message: str, result) -> str:
    """Return the message of a money operation done: a fiscal one that answered None
    was posted without the register (an account marked «Не работать через кассу»,
    or a payment from the balance) and says so."""
    if result is None:
        return f"{message}. " + _("Без чека: операция проведена по лицевому счёту без кассы")
    return message
