"""Paying a confirmed invoice from a personal account, or at the cash desk through
the register (cash or card: a sale receipt whose confirmation deposits the money
and pays the invoice from it): a payment transaction that names the invoice, and
the invoice's paid amount and state moved by
`services.invoices.payment.record_payment` (its lines turn "paid" when it is paid
in full). The invoice row is locked first: two payments of one invoice run one
after the other, and the second finds what the first paid. A reversal of the
payment (`transfers.reverse`) gives the amount back to the invoice.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.errors import ValidationError
from models.base import lock_row
from models.contracts import Contract
from models.invoices import Invoice
from models.money import HOLDER_COLUMNS, Account, Transaction
from security.scope import scoped
from services.boundary import command
from services.invoices.payment import PAYABLE, record_payment
from services.invoices.rules import get_invoice
from services.money import desk
from services.money.accounts import account_in_scope, check_day_open, post
from services.money.fiscal import ReceiptLine
from services.money.statements import kinds_seen


def payable_invoices(session, rights, account) -> list[Invoice]:
    """Return the invoices the account's holder owes (confirmed or part-paid) in the
    user's scope: a patient's own, or those under the contracts an organisation, an
    insurer or an individual pays."""
    stmt = select(Invoice).where(Invoice.state.in_(("confirmed", "partly_paid")),
                                 Invoice.total > 0)
    if account.kind == "patient":
        stmt = stmt.where(Invoice.kind == "patient", Invoice.patient_id == account.patient_id)
    else:
        column = HOLDER_COLUMNS[account.kind]
        stmt = stmt.where(Invoice.kind != "patient", Invoice.contract_id.in_(
            select(Contract.id).where(getattr(Contract, column) == getattr(account, column))))
    return session.scalars(scoped(stmt.order_by(Invoice.invoice_date), rights)).all()


def invoice_payments(session, rights, invoice_id: int) -> list:
    """Return the payments of an invoice (transactions naming it, reversed ones
    included and marked) on the accounts the user may view, oldest first, with their
    account and its holder loaded: what the invoice card lists under «Оплаты»."""
    kinds = kinds_seen(rights)
    if not kinds:
        return []
    account = joinedload(Transaction.account)
    stmt = (select(Transaction).join(Account, Account.id == Transaction.account_id)
            .where(Transaction.invoice_id == invoice_id, Transaction.kind == "payment",
                   Account.kind.in_(kinds))
            .options(account.joinedload(Account.patient),
                     account.joinedload(Account.organisation),
                     account.joinedload(Account.insurer),
                     account.joinedload(Account.individual))
            .order_by(Transaction.id))
    return session.scalars(scoped(stmt, rights)).all()


@command
def pay_invoice(session, rights, *, key: str, account_id: int, invoice_id: int,
                amount: Decimal | None = None):
    """Pay `amount` (None: what is left) of an invoice from the account's balance.
    Returns the payment transaction (the same one for a repeated key).

    Raises Forbidden (edit of the account's kind), NotFound, ValidationError (not
    payable, more than is left, not enough on the account, a closed period)."""
    done = session.scalar(select(Transaction).where(Transaction.idem_key == key))
    if done is not None:
        return done
    account = account_in_scope(session, rights, account_id, "edit")
    invoice = invoice_payable_from(session, rights, account, invoice_id)
    amount = left_to_pay(session, invoice, amount)
    check_day_open(session, account.branch_id, rights)
    tx = post(session, account, "payment", amount, -amount, key=key, user_id=rights.user_id,
              invoice_id=invoice.id)
    record_payment(session, invoice, amount)
    return tx


def unpay(session, invoice_id: int, amount: Decimal) -> None:
    """Give a reversed payment's amount back to its invoice."""
    invoice = session.get(Invoice, invoice_id)
    session.execute(select(Invoice.id).where(Invoice.id == invoice_id).with_for_update())
    record_payment(session, invoice, -amount)


def invoice_payable_from(session, rights, account, invoice_id: int) -> Invoice:
    """Return the invoice `invoice_id`, locked, if the account's holder owes it.
    Raises NotFound (outside the scope) or ValidationError."""
    invoice = get_invoice(session, invoice_id, rights)
    session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    session.refresh(invoice)
    if invoice.state not in PAYABLE or invoice not in payable_invoices(session, rights, account):
        raise ValidationError(_("Счёт не оплачивается с этого лицевого счёта"),
                              field="invoice")
    return invoice


def left_to_pay(session, invoice: Invoice, amount: Decimal | None) -> Decimal:
    """Return what to pay of the invoice: `amount`, or (None) what is left once its
    payments and the receipts waiting for the register are counted.

    Raises ValidationError for nothing or more than is left."""
    left = invoice.total - (invoice.paid_amount or Decimal("0")) \
        - desk.reserved_for_invoice(session, invoice.id)
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise ValidationError(_("К оплате по счёту осталось %(n)s", n=left), field="amount")
    return amount


def pay_invoice_at_desk(session, rights, *, key: str, register_id: int, account_id: int,
                        invoice_id: int, amount: Decimal | None = None, cashless: bool = False,
                        cashier: str = ""):
    """Take the payment of an invoice at the cash desk: a sale receipt (cash, or by
    card when `cashless`) through the register; once it confirms, the money goes onto
    the account and pays the invoice from it (both on the statement). Returns the
    confirmed Receipt (the same one for a repeated key), or None on an account marked
    «Не работать через кассу»: both are posted at once without a receipt
    (`desk.without_register`).

    Raises Forbidden, NotFound, ValidationError (not payable, more than is left, the
    closed period, no open shift), FiscalError (see desk.run: nothing is paid)."""
    register = desk.register_in_scope(session, rights, register_id)

    def build() -> dict:
        account = account_in_scope(session, rights, account_id, "edit")
        lock_row(session, Account, account.id)
        invoice = invoice_payable_from(session, rights, account, invoice_id)
        paid = left_to_pay(session, invoice, amount)
        check_day_open(session, register.branch_id, rights)
        section = register.default_section
        if section is None:
            raise ValidationError(_("Секция оплаты не выбрана (задайте секцию по умолчанию в "
                                    "настройках кассы)"), field="section")
        line = ReceiptLine(_("Оплата по счёту № %(n)s", n=invoice.number), 1, paid, paid,
                           section.register_section, register.vat_rate)
        intent = {"op": "invoice", "account_id": account.id, "invoice_id": invoice.id,
                  "amount": str(paid), "section_id": section.id, "cashless": cashless,
                  "receipt_lines": desk.lines_json([line])}
        return {"kind": "sale", "total": paid, "account_id": account.id, "intent": intent}

    return desk.run(session, key, register, build, user_id=rights.user_id, cashier=cashier)


@desk.poster("invoice")
def _post_invoice(session, receipt, intent: dict) -> None:
    account = session.get(Account, intent["account_id"])
    amount, user = Decimal(intent["amount"]), receipt.created_by_id
    links = {"receipt_id": receipt.id, "shift_id": receipt.shift_id,
             "section_id": intent.get("section_id")}
    post(session, account, "deposit", amount, amount, key=f"{receipt.idem_key}:deposit",
         user_id=user, **links)
    post(session, account, "payment", amount, -amount, key=f"{receipt.idem_key}:invoice",
         user_id=user, invoice_id=intent["invoice_id"], **links)
    invoice = session.get(Invoice, intent["invoice_id"])
    session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    session.refresh(invoice)
    record_payment(session, invoice, amount)
