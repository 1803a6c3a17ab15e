"""What happens to an invoice after it is made: confirmation (with its number),
cancellation, storno, removing a line, changing the header.

Every change goes through the ORM (journaled by the change journal, with who and,
where the rights ask for it, why: `reason`) and bumps the invoice's version: of
two users acting on one invoice at once the second is told (Conflict), never
applied twice.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm.exc import StaleDataError

from core.errors import Conflict, ValidationError
from models.invoices import Invoice, InvoiceLine
from models.vouchers import VoucherLine
from services.boundary import command
from services.dates import local_now, utc_now
from services.invoices.journal import journal_bulk
from services.invoices.numbering import next_number
from services.invoices.rules import (
    REMOVE_CONFIRMED_RIGHT,
    STORNO_RIGHT,
    check_date,
    get_invoice,
    require_level,
    require_sub,
    serialised,
)
from services.money import chain

CONFIRMED = ("confirmed", "partly_paid", "paid")


def _save(session) -> None:
    """Flush; a row another user changed meanwhile becomes Conflict."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(_("Счёт изменён другим пользователем: обновите страницу")) from exc


def _check_version(invoice: Invoice, version) -> None:
    if version is not None and str(version) != str(invoice.version):
        raise Conflict(_("Счёт изменён другим пользователем: обновите страницу"))


def _check_changeable(session, invoice: Invoice, rights) -> None:
    check_date(session, invoice.kind, invoice.branch_id, invoice.invoice_date, rights,
               local_now().date())


def _free_lines(session, invoice: Invoice, line_ids=None) -> int:
    """Return the invoice's voucher lines (or some of them) to "rendered"; returns how many."""
    chosen = select(InvoiceLine.voucher_line_id).where(InvoiceLine.invoice_id == invoice.id)
    if line_ids is not None:
        chosen = chosen.where(InvoiceLine.id.in_(line_ids))
    freed = session.execute(
        update(VoucherLine).where(VoucherLine.id.in_(chosen), VoucherLine.state == "invoiced")
        .values(state="rendered").execution_options(synchronize_session=False)).rowcount
    journal_bulk(session, "update", VoucherLine.__tablename__, f"invoice:{invoice.id}",
                 {"state": "invoiced"}, {"state": "rendered", "lines": freed,
                                         "invoice_id": invoice.id})
    for obj in list(session.identity_map.values()):
        if isinstance(obj, VoucherLine):
            session.expire(obj, ["state"])
    return freed


def _not_reversing(invoice: Invoice) -> None:
    if invoice.storno_of_id is not None:
        raise ValidationError(_("Сторнирующий счёт не отменяется и не меняется"))


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError(_("Укажите основание"), field="reason")
    if len(text) > 500:
        raise ValidationError(_("Основание длиннее 500 знаков"), field="reason")
    return text


@command
@serialised
def confirm(session, rights, invoice_id, *, version=None) -> Invoice:
    """Confirm a draft: it gets the next number of its branch and year. Returns it.

    Raises Forbidden without the kind's «Подтверждение счетов» (and "edit"),
    NotFound outside the scope, ValidationError for a closed period or a date past
    the days allowed, Conflict when someone confirmed or changed it first."""
    invoice = get_invoice(session, invoice_id, rights, write=True)
    require_level(rights, invoice.kind, "edit")
    require_sub(rights, invoice.kind, "confirm")
    _check_version(invoice, version)
    if invoice.state != "draft":
        raise Conflict(_("Счёт уже подтверждён или отменён"))
    _check_changeable(session, invoice, rights)
    if not invoice.total and not invoice.lines:
        raise ValidationError(_("В счёте нет услуг"))
    invoice.state = "confirmed"
    invoice.confirmed_by_id = rights.user_id
    invoice.confirmed_on = utc_now()
    # The invoice row first: a second confirmation waits here (row lock on
    # PostgreSQL, write lock on SQLite) and then finds the version changed.
    _save(session)
    invoice.number_year = invoice.invoice_date.year
    invoice.number_seq = next_number(session, invoice.branch_id, invoice.number_year)
    _save(session)
    chain.append(session, "invoice", invoice)  # a posted money document (issue 15)
    return invoice


@command
@serialised
def cancel(session, rights, invoice_id, *, reason: str | None = None, version=None
           ) -> Invoice:
    """Cancel an invoice: a draft with "edit" of its kind, a confirmed unpaid one with
    «Отмена подтвержденных счетов» (to organisations: «Редактирование подтвержденных
    счетов») and a reason. Its voucher lines become "rendered" again. Returns it.

    Raises Forbidden, NotFound, ValidationError (paid, closed period, days, no
    reason), Conflict."""
    invoice = get_invoice(session, invoice_id, rights, write=True)
    require_level(rights, invoice.kind, "edit")
    _check_version(invoice, version)
    _not_reversing(invoice)
    if invoice.state in CONFIRMED:
        require_sub(rights, invoice.kind, "cancel_confirmed")
        if invoice.paid_amount:
            raise ValidationError(_("По счёту есть оплата: сначала отмените оплату"))
        invoice.reason = _reason(reason)
    elif invoice.state != "draft":
        raise Conflict(_("Счёт уже отменён или сторнирован"))
    else:
        invoice.reason = (reason or "").strip() or None
    _check_changeable(session, invoice, rights)
    invoice.state = "cancelled"
    _save(session)
    _free_lines(session, invoice)
    return invoice


@command
@serialised
def storno(session, rights, invoice_id, *, reason: str | None = None, version=None
           ) -> Invoice:
    """Reverse a confirmed, unpaid invoice: a reversing invoice dated today with the
    same lines negated, confirmed with its own number; the original becomes
    "reversed" and its voucher lines "rendered" (to be invoiced again). The
    original's date may lie in a closed period: only the reversing document is new,
    and it is dated in the open one. Returns the reversing invoice.

    Raises Forbidden without «Сторнирование счетов» (and "edit" of the kind),
    NotFound, ValidationError (not confirmed, paid, today closed, no reason),
    Conflict."""
    original = get_invoice(session, invoice_id, rights, write=True)
    require_level(rights, original.kind, "edit")
    rights.require(STORNO_RIGHT)
    _check_version(original, version)
    _not_reversing(original)
    if original.state not in CONFIRMED:
        raise ValidationError(_("Сторнируется только подтверждённый счёт"))
    if original.paid_amount:
        raise ValidationError(_("По счёту есть оплата: сначала отмените оплату"))
    why = _reason(reason)
    today = local_now().date()
    check_date(session, original.kind, original.branch_id, today, rights, today)
    original.state = "reversed"
    original.reason = why
    _save(session)
    reverse = Invoice(kind=original.kind, state="confirmed", branch_id=original.branch_id,
                      invoice_date=today, patient_id=original.patient_id,
                      contract_id=original.contract_id, period_from=original.period_from,
                      period_to=original.period_to, total=-original.total,
                      paid_amount=Decimal("0.00"), storno_of_id=original.id, reason=why,
                      created_by_id=rights.user_id, confirmed_by_id=rights.user_id,
                      confirmed_on=utc_now())
    session.add(reverse)
    _save(session)
    src = InvoiceLine.__table__.c
    session.execute(insert(InvoiceLine).from_select(
        ["invoice_id", "voucher_line_id", "service_date", "quantity", "price", "amount"],
        select(literal(reverse.id), src.voucher_line_id, src.service_date, src.quantity,
               src.price, -src.amount).where(src.invoice_id == original.id)
        .order_by(src.id)))
    journal_bulk(session, "insert", InvoiceLine.__tablename__, f"invoice:{reverse.id}", None,
                 {"storno_of_id": original.id, "total": str(reverse.total)})
    reverse.number_year = today.year
    reverse.number_seq = next_number(session, reverse.branch_id, today.year)
    _save(session)
    chain.append(session, "invoice", reverse)
    _free_lines(session, original)
    return reverse


@command
@serialised
def remove_line(session, rights, invoice_id, line_id, *, reason: str | None = None,
                version=None) -> Invoice:
    """Take one line out of an invoice: from a draft with "edit" of its kind, from a
    confirmed unpaid one with «Удаление услуг из подтвержденных счетов» and a reason.
    The voucher line becomes "rendered"; the total follows. Returns the invoice.

    Raises Forbidden, NotFound (line not in this invoice), ValidationError,
    Conflict."""
    invoice = get_invoice(session, invoice_id, rights, write=True)
    require_level(rights, invoice.kind, "edit")
    _check_version(invoice, version)
    _not_reversing(invoice)
    if invoice.state in CONFIRMED:
        rights.require(REMOVE_CONFIRMED_RIGHT)
        if invoice.paid_amount:
            raise ValidationError(_("По счёту есть оплата: сначала отмените оплату"))
        invoice.reason = _reason(reason)
    elif invoice.state != "draft":
        raise ValidationError(_("Из отменённого или сторнированного счёта услуги не удаляются"))
    _check_changeable(session, invoice, rights)
    line = session.scalar(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id,
                                                    InvoiceLine.id == int(line_id)))
    if line is None:
        from core.errors import NotFound

        raise NotFound(_("Строка счёта не найдена"))
    if invoice.state in CONFIRMED and len(invoice.lines) <= 1:
        raise ValidationError(_("Это последняя услуга счёта: отмените или сторнируйте счёт"))
    _free_lines(session, invoice, [line.id])
    session.delete(line)
    session.flush()
    invoice.total = session.scalar(
        select(func.coalesce(func.sum(InvoiceLine.amount), 0))
        .where(InvoiceLine.invoice_id == invoice.id))
    _save(session)
    return invoice


@command
@serialised
def edit_header(session, rights, invoice_id, *, note=None, invoice_date=None, version=None
                ) -> Invoice:
    """Change a draft's date and note (with "edit" of its kind), or a confirmed
    invoice's note (with «Редактирование подтвержденных счетов»): amounts and lines
    of a confirmed invoice never change. Returns the invoice.

    Raises Forbidden, NotFound, ValidationError, Conflict."""
    invoice = get_invoice(session, invoice_id, rights, write=True)
    require_level(rights, invoice.kind, "edit")
    _check_version(invoice, version)
    if invoice.state in CONFIRMED:
        require_sub(rights, invoice.kind, "edit_confirmed")
        if invoice_date is not None and invoice_date != invoice.invoice_date:
            raise ValidationError(_("Дата подтверждённого счёта не меняется"),
                                  field="invoice_date")
    elif invoice.state != "draft":
        raise ValidationError(_("Отменённый или сторнированный счёт не меняется"))
    _check_changeable(session, invoice, rights)
    if invoice_date is not None and invoice.state == "draft":
        check_date(session, invoice.kind, invoice.branch_id, invoice_date, rights,
                   local_now().date())
        invoice.invoice_date = invoice_date
    if note is not None:
        invoice.note = note.strip()[:500] or None
    _save(session)
    return invoice


#: The actions of the card, for the screen and the API (name -> label).
ACTIONS = {"confirm": _l("Подтвердить"), "cancel": _l("Отменить счёт"),
           "storno": _l("Сторнировать"), "print": _l("Печать")}
