"""Refunds: cash back from an account's balance, or of a paid voucher line (all of
it or a part), through a refund receipt. «Возврат с лицевого счета» is needed for
both; a line paid in a shift that is closed by now needs «Возврат при закрытой
смене» as well.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.errors import NotFound, ValidationError
from models.base import lock_row
from models.money import Account, Receipt, Shift, Transaction
from models.vouchers import VoucherLine
from security.scope import scoped
from services.money import desk
from services.money.accounts import CENT, account_in_scope, check_day_open, post
from services.money.fiscal import ReceiptLine
from services.money.payments import settle_lines

REFUND_RIGHT = "payment.refund"
CLOSED_SHIFT_RIGHT = "payment.refund_closed_shift"


def refundable(session, line_id: int) -> tuple[Decimal, Decimal, Transaction | None]:
    """Return (cash paid and not refunded, discount given on it, the last payment)
    of a voucher line."""
    payments = session.scalars(select(Transaction).where(
        Transaction.voucher_line_id == line_id, Transaction.kind == "payment",
        Transaction.reversed.is_(False)).order_by(Transaction.id)).all()
    refunded = session.scalar(select(func.coalesce(func.sum(Transaction.amount), 0)).where(
        Transaction.voucher_line_id == line_id, Transaction.kind == "refund",
        Transaction.reversed.is_(False)))
    cash = sum((p.amount for p in payments), Decimal("0")) - Decimal(refunded)
    discount = sum((p.discount_amount for p in payments), Decimal("0"))
    return cash, discount, (payments[-1] if payments else None)


def refund(session, rights, *, key: str, register_id: int, account_id: int, amount: Decimal,
           line_id: int | None = None, cashier: str = "") -> Receipt | None:
    """Refund `amount` in cash: of the paid line `line_id` (the line becomes part-paid),
    or from the account's balance. Returns the confirmed refund receipt, or None on
    an account marked «Не работать через кассу» (posted without one; refused for a
    line paid through the register: `desk.without_register`).

    Raises Forbidden, NotFound, ValidationError, FiscalError (see desk.run)."""
    register = desk.register_in_scope(session, rights, register_id)

    def build() -> dict:
        rights.require(REFUND_RIGHT)
        account = account_in_scope(session, rights, account_id, "edit")
        lock_row(session, Account, account.id)
        check_day_open(session, register.branch_id, rights)
        section = register.default_section
        intent = {"op": "refund", "account_id": account.id, "amount": str(amount)}
        name = _("Возврат аванса")
        receipted = False
        _lines, refunds, line_refunds = desk.reserved_by_pending(session, account.id)
        if line_id is not None:
            line = session.scalar(scoped(select(VoucherLine).where(VoucherLine.id == line_id),
                                         rights))
            if line is None or line.voucher.patient_id != account.patient_id:
                raise NotFound(_("Услуга талона не найдена"))
            cash, discount, last = refundable(session, line.id)
            cash -= line_refunds.get(line.id, Decimal("0"))
            if amount > cash:
                raise ValidationError(_("Вернуть можно не больше оплаченного: %(n)s", n=cash),
                                      field="amount")
            shift = session.get(Shift, last.shift_id) if last and last.shift_id else None
            if shift is not None and shift.state == "closed":
                rights.require(CLOSED_SHIFT_RIGHT, field="amount")
            off = (discount * amount / (cash + discount)).quantize(CENT, ROUND_HALF_UP) \
                if discount and cash else Decimal("0")
            intent.update(line_id=line.id, discount=str(off),
                          section_id=last.section_id if last else None)
            receipted = _paid_through_register(session, line.id)
            name = str(line.service)
            section = last.section if last and last.section else section
        elif not account.allow_negative and amount > account.balance - refunds:
            raise ValidationError(_("На лицевом счёте недостаточно средств: остаток %(b)s",
                                    b=account.balance - refunds), field="amount")
        if section is None:
            raise ValidationError(_("Секция оплаты не выбрана (задайте секцию по умолчанию в "
                                    "настройках кассы)"), field="section")
        lines = [ReceiptLine(name, 1, amount, amount, section.register_section,
                             register.vat_rate)]
        intent["receipt_lines"] = desk.lines_json(lines)
        return {"kind": "refund", "total": amount, "account_id": account.id, "intent": intent,
                "receipted": receipted}

    return desk.run(session, key, register, build, user_id=rights.user_id, cashier=cashier)


def _paid_through_register(session, line_id: int) -> bool:
    """Return whether a payment of the line (not reversed) came with a receipt."""
    return session.scalar(select(Transaction.id).where(
        Transaction.voucher_line_id == line_id, Transaction.kind == "payment",
        Transaction.reversed.is_(False), Transaction.receipt_id.is_not(None)).limit(1)) \
        is not None


@desk.poster("refund")
def _post_refund(session, receipt: Receipt, intent: dict) -> None:
    account = session.get(Account, intent["account_id"])
    amount = Decimal(intent["amount"])
    if intent.get("line_id"):
        # The line's money goes straight back to the patient: the balance stays.
        post(session, account, "refund", amount, Decimal("0"), key=receipt.idem_key,
             user_id=receipt.created_by_id, voucher_line_id=intent["line_id"],
             discount_amount=Decimal(intent.get("discount", "0")),
             section_id=intent.get("section_id"), receipt_id=receipt.id,
             shift_id=receipt.shift_id)
        settle_lines(session, [intent["line_id"]])
        return
    post(session, account, "refund", amount, -amount, key=receipt.idem_key,
         user_id=receipt.created_by_id, receipt_id=receipt.id, shift_id=receipt.shift_id)
