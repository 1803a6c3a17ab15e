"""Reversal (storno) of a transaction that went through the register: the money
goes back to the payer through a refund receipt, in the cash desk's three steps
(`desk.run`: reserve, print, confirm) under the operation's idempotency key. The
reversal is posted only when the register confirmed the refund receipt: a receipt
the device did not print reverses nothing, and a retry with the same key never
prints a second one.

What is posted on confirmation:
- a deposit that came in through a receipt: its reversal (the balance goes down by
  what is handed back);
- a payment of a voucher line or an invoice paid through a receipt: its reversal
  (the line or the invoice owes it again, the balance gets it back) and a refund of
  the same amount from the balance, which is the cash handed back.
Refunds are not reversed this way: the patient would have to pay again (a new sale).
A transaction without a receipt is reversed by `transfers.reverse`.
"""

from __future__ import annotations

import json

from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import ValidationError
from models.base import lock_row
from models.money import Account, Receipt, Shift, Transaction
from services.money import desk
from services.money.accounts import post
from services.money.fiscal import ReceiptLine
from services.money.payments import settle_lines
from services.money.transfers import (
    CLOSED_DELETE_RIGHT,
    FISCAL_DELETE_RIGHT,
    PHARMACY_DELETE_RIGHT,
    _transaction,
    check_correction,
)
from services.money.transfers import (
    reverse as reverse_plain,
)

REVERSIBLE = ("deposit", "payment")


def reverse(session, rights, tx_id: int, *, key: str, cashier: str = ""):
    """Reverse a posted transaction. One without a receipt: `transfers.reverse` (one
    unit of work; returns the reversal). One with a receipt: a refund receipt on the
    register that printed it (returns the confirmed refund Receipt).

    Raises Forbidden («Редактирование транзакций», «Удаление транзакций, прошедших
    через кассовый аппарат», «… при закрытой смене»), NotFound, ValidationError,
    FiscalError (see desk.run; nothing is reversed then)."""
    tx = _transaction(session, rights, tx_id)
    if tx.receipt_id is None:
        session.rollback()  # end the read: the reversal is its own unit of work
        return reverse_plain(session, rights, tx_id, key=key)
    origin = session.get(Receipt, tx.receipt_id)
    register = desk.register_in_scope(session, rights, origin.register_id)
    session.rollback()

    def build() -> dict:
        tx = _transaction(session, rights, tx_id)
        lock_row(session, Account, tx.account_id)
        session.refresh(tx)
        check(session, rights, tx)
        origin = session.get(Receipt, tx.receipt_id)
        cashless = bool(json.loads(origin.intent or "{}").get("cashless"))
        section = tx.section or register.default_section
        if section is None:
            raise ValidationError(_("Секция оплаты не выбрана (задайте секцию по умолчанию в "
                                    "настройках кассы)"), field="section")
        lines = [ReceiptLine(_name(tx), 1, tx.amount, tx.amount, section.register_section,
                             register.vat_rate)]
        intent = {"op": "reverse", "account_id": tx.account_id, "tx_id": tx.id,
                  "line_id": tx.voucher_line_id, "cashless": cashless,
                  "receipt_lines": desk.lines_json(lines)}
        # Money in through a receipt goes back through one: refused on an account
        # marked «Не работать через кассу» (desk.without_register).
        return {"kind": "refund", "total": tx.amount, "account_id": tx.account_id,
                "intent": intent, "receipted": True}

    return desk.run(session, key, register, build, user_id=rights.user_id, cashier=cashier)


def check(session, rights, tx: Transaction) -> None:
    """Refuse the reversal of a transaction with a receipt that the rules or rights
    do not allow. Raises Forbidden or ValidationError."""
    if tx.reversed or tx.kind == "reversal" or _pending(session, tx):
        raise ValidationError(_("Транзакция уже сторнирована"))
    if tx.kind not in REVERSIBLE:
        raise ValidationError(_("Возврат через кассу не сторнируется: пробейте новый приход"))
    check_correction(session, rights, tx)
    rights.require(FISCAL_DELETE_RIGHT)
    shift = session.get(Shift, tx.shift_id) if tx.shift_id else None
    if shift is not None and shift.state == "closed":
        rights.require(CLOSED_DELETE_RIGHT)
    if tx.source == "pharmacy":
        rights.require(PHARMACY_DELETE_RIGHT)
    account = session.get(Account, tx.account_id)
    left = account.balance - desk.reserved_by_pending(session, account.id)[1]
    if tx.kind == "deposit" and not account.allow_negative and left < tx.amount:
        raise ValidationError(_("На лицевом счёте недостаточно средств: остаток %(b)s, "
                                "нужно %(n)s", b=left, n=tx.amount), field="amount")


def _pending(session, tx: Transaction) -> bool:
    """Return whether a refund receipt reversing `tx` waits for the register."""
    for (raw,) in session.execute(select(Receipt.intent).where(
            Receipt.account_id == tx.account_id, Receipt.state == "pending",
            Receipt.kind == "refund")):
        if json.loads(raw).get("tx_id") == tx.id:
            return True
    return False


def _name(tx: Transaction) -> str:
    if tx.voucher_line_id is not None:
        return str(tx.voucher_line.service)
    if tx.invoice_id is not None:
        return _("Оплата по счёту № %(n)s", n=tx.invoice.number)
    return _("Аванс на лицевой счёт")


@desk.poster("reverse")
def _post_reverse(session, receipt: Receipt, intent: dict) -> None:
    tx = session.get(Transaction, intent["tx_id"])
    account = session.get(Account, tx.account_id)
    user, links = receipt.created_by_id, {"receipt_id": receipt.id, "shift_id": receipt.shift_id}
    tx.reversed = True
    post(session, account, "reversal", tx.amount, -tx.delta, key=receipt.idem_key,
         user_id=user, related_id=tx.id, voucher_line_id=tx.voucher_line_id, **links)
    if tx.kind == "payment":
        # The paid amount came back onto the balance; the cash handed back takes it off.
        post(session, account, "refund", tx.amount, -tx.amount, key=f"{receipt.idem_key}:cash",
             user_id=user, related_id=tx.id, section_id=tx.section_id, **links)
    if tx.invoice_id is not None:
        from services.money.invoices import unpay

        unpay(session, tx.invoice_id, tx.amount)
    if tx.voucher_line_id is not None:
        settle_lines(session, [tx.voucher_line_id])
