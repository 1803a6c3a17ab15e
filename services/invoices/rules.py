"""The rights of «Документы / Счета», checked for every channel (screen, API, bulk):
the access level of each invoice kind, confirming, editing and cancelling
confirmed invoices, the days allowed for changes (which also bound back-dating;
0 = unlimited), network contracts, storno, removing services from confirmed
invoices, and the closed reporting period.

Each check raises Forbidden for a missing right and ValidationError for a broken
rule, with the form field it belongs to.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.errors import NotFound, ValidationError
from models.invoices import KIND_RIGHTS, Invoice
from models.org import Unit
from security.scope import READ, WRITE, scoped
from services.admin.params import check_open

STORNO_RIGHT = "invoice.storno"
REMOVE_CONFIRMED_RIGHT = "invoice.delete_confirmed_services"
NETWORK_RIGHT = "invoice.organisations.network"
#: Sub-rights of each kind (the seed has them for patients and organisations only;
#: invoices to individuals answer to their access level alone).
SUB_RIGHTS = {
    "patient": {"confirm": "invoice.patients.confirm",
                "edit_confirmed": "invoice.patients.edit_confirmed",
                "cancel_confirmed": "invoice.patients.cancel_confirmed",
                "days": "invoice.patients.edit_days"},
    "organisation": {"confirm": "invoice.organisations.confirm",
                     "edit_confirmed": "invoice.organisations.edit_confirmed",
                     # «Редактирование подтвержденных счетов»: «поле Статус – "Отменен"».
                     "cancel_confirmed": "invoice.organisations.edit_confirmed",
                     "days": "invoice.organisations.edit_days"},
    "individual": {},
}


def require_level(rights, kind: str, level: str) -> None:
    """Refuse when the access right of the invoice kind is below `level`.

    Raises Forbidden."""
    rights.require(KIND_RIGHTS[kind], level)


def require_sub(rights, kind: str, what: str, refusal=None) -> None:
    """Refuse when the kind's yes/no right `what` ("confirm", "edit_confirmed",
    "cancel_confirmed") is not held; for a kind without such rights, its access level
    "delete" stands in.

    Raises Forbidden."""
    code = SUB_RIGHTS[kind].get(what)
    if code is None:
        rights.require(KIND_RIGHTS[kind], "delete", refusal=refusal)
    else:
        rights.require(code, refusal=refusal)


def edit_days(rights, kind: str) -> int:
    """Return the days allowed to change an invoice of `kind` after its date (0: no limit)."""
    if rights.is_admin:
        return 0
    code = SUB_RIGHTS[kind].get("days")
    return int(rights.value(code) or 0) if code else 0


def check_date(session, kind: str, branch_id: int, day: dt.date, rights,
               today: dt.date) -> None:
    """Refuse an invoice date (of a new invoice, or of one being changed) in the closed
    period, in the future, or older than the days allowed for changes (back-dating).

    Raises ValidationError with field "invoice_date"."""
    try:
        check_open(session, branch_id, day, rights=rights)
    except ValidationError as exc:
        raise ValidationError(exc.message, field="invoice_date") from exc
    if day > today:
        raise ValidationError(_("Дата счёта не может быть в будущем"), field="invoice_date")
    days = edit_days(rights, kind)
    if days and (today - day).days > days:
        raise ValidationError(
            _("Счета создаются и меняются не позже %(n)s дн. после даты счёта", n=days),
            field="invoice_date")


def writable_branch(session, branch_id: int | None, rights) -> Unit:
    """Return the branch if the user may write in it.

    Raises ValidationError (no branch) or NotFound (outside his scope)."""
    if branch_id is None:
        raise ValidationError(_("Укажите филиал"), field="branch")
    unit = session.scalar(scoped(select(Unit).where(Unit.id == branch_id), rights, WRITE))
    if unit is None:
        raise NotFound(_("Филиал не найден"), field="branch")
    return unit


def get_invoice(session, invoice_id, rights, *, write: bool = False,
                kind: str | None = None) -> Invoice:
    """Return the invoice the user may read (or write), of `kind` when given.

    Raises NotFound for one that does not exist or lies outside his scope."""
    try:
        key = int(invoice_id)
    except (TypeError, ValueError):
        key = None
    invoice = None
    if key is not None and abs(key) < 2**31:
        invoice = session.scalar(scoped(select(Invoice).where(Invoice.id == key), rights,
                                        WRITE if write else READ))
    if invoice is None or (kind is not None and invoice.kind != kind):
        raise NotFound(_("Счёт не найден"))
    return invoice


#: What the card offers, by state (the service decides again when it is asked).
NEEDS_NOTE = _l("Укажите основание")


def serialised(fn):
    """Decorate an invoice command: on SQLite, which lets one writer at a time, a second
    writer that already read finds the database locked when it starts writing (SQLite
    answers "locked" rather than wait, which would deadlock); that is the other user
    winning the race, so it becomes Conflict, as PostgreSQL's row lock makes it."""
    import functools

    from sqlalchemy.exc import OperationalError

    from core.errors import Conflict

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OperationalError as exc:
            if "locked" not in str(exc.orig):
                raise
            raise Conflict(_("Счёт или его услуги в эту минуту меняет другой пользователь: "
                             "обновите страницу и повторите")) from exc

    return run
