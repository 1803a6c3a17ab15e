"""Paying a confirmed invoice from a personal account: a payment transaction that
names the invoice, and the invoice's paid amount and state moved by
`services.invoices.payment.record_payment` (its lines turn "paid" when it is paid
in full). The invoice row is locked first: two payments of one invoice run one
after the other, and the second finds what the first paid. A reversal of the
payment (`transfers.reverse`) gives the amount back to the invoice.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import ValidationError
from models.contracts import Contract
from models.invoices import Invoice
from security.scope import scoped
from services.boundary import command
from services.invoices.payment import PAYABLE, record_payment
from services.invoices.rules import get_invoice
from services.money.accounts import account_in_scope, check_day_open, post


def payable_invoices(session, rights, account) -> list[Invoice]:
    """Return the invoices the account's holder owes (confirmed or part-paid) in the
    user's scope: a patient's own, or those under an organisation's contracts."""
    stmt = select(Invoice).where(Invoice.state.in_(("confirmed", "partly_paid")),
                                 Invoice.total > 0)
    if account.kind == "patient":
        stmt = stmt.where(Invoice.patient_id == account.patient_id)
    else:
        stmt = stmt.where(Invoice.contract_id.in_(select(Contract.id).where(
            Contract.organisation_id == account.organisation_id)))
    return session.scalars(scoped(stmt.order_by(Invoice.invoice_date), rights)).all()


@command
def pay_invoice(session, rights, *, key: str, account_id: int, invoice_id: int,
                amount: Decimal | None = None):
    """Pay `amount` (None: what is left) of an invoice from the account's balance.
    Returns the payment transaction (the same one for a repeated key).

    Raises Forbidden (edit of the account's kind), NotFound, ValidationError (not
    payable, more than is left, not enough on the account, a closed period)."""
    from models.money import Transaction

    done = session.scalar(select(Transaction).where(Transaction.idem_key == key))
    if done is not None:
        return done
    account = account_in_scope(session, rights, account_id, "edit")
    invoice = get_invoice(session, invoice_id, rights)
    session.execute(select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    session.refresh(invoice)
    if invoice.state not in PAYABLE or invoice not in payable_invoices(session, rights, account):
        raise ValidationError(_("Счёт не оплачивается с этого лицевого счёта"),
                              field="invoice")
    left = invoice.total - (invoice.paid_amount or Decimal("0"))
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise ValidationError(_("К оплате по счёту осталось %(n)s", n=left), field="amount")
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
