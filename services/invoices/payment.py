"""The one way a payment changes an invoice (for the payments module)."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select, update

from core.errors import ValidationError
from models.invoices import Invoice, InvoiceLine
from models.vouchers import VoucherLine

PAYABLE = ("confirmed", "partly_paid", "paid")


def record_payment(session, invoice: Invoice, amount: Decimal) -> Invoice:
    """Add `amount` (negative for a refund) to the invoice's `paid_amount` and move its
    state: confirmed (nothing paid), partly_paid, paid (in full: its voucher lines
    turn "paid"; back to "invoiced" when a refund reopens it). Flushes, never
    commits: the caller's command does. Returns the invoice.

    Raises ValidationError for an invoice that takes no payments, or a paid amount
    that would fall below zero or rise above the total."""
    if invoice.state not in PAYABLE or invoice.total <= 0:
        raise ValidationError(_("Этот счёт не принимает оплату"))
    paid = (invoice.paid_amount or Decimal(0)) + Decimal(amount)
    if paid < 0 or paid > invoice.total:
        raise ValidationError(_("Оплата не может превышать сумму счёта"), field="amount")
    was_paid = invoice.state == "paid"
    invoice.paid_amount = paid
    invoice.state = "confirmed" if paid == 0 else ("paid" if paid == invoice.total
                                                   else "partly_paid")
    if (invoice.state == "paid") != was_paid:
        old, new = ("invoiced", "paid") if not was_paid else ("paid", "invoiced")
        session.execute(update(VoucherLine).where(
            VoucherLine.id.in_(select(InvoiceLine.voucher_line_id)
                               .where(InvoiceLine.invoice_id == invoice.id)),
            VoucherLine.state == old).values(state=new)
            .execution_options(synchronize_session=False))
    session.flush()
    return invoice
