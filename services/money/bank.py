"""Payments of invoices received by bank transfer («Импорт оплаты счетов»): the amount
is put on the payer's personal account in the invoice's branch (a patient's, an
organisation's, an insurer's or an individual's under a contract) (a deposit without a
cash receipt — the money did not pass a cash desk) and the invoice is paid from it by
`services.money.invoices.pay_invoice`, the rule of the account screen's «Оплатить
счёт» (its right on the account, payable state, what is left, closed period). Both
transactions carry the payment's key: a repeated key changes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import ValidationError
from models.contracts import Contract
from models.invoices import Invoice
from models.money import HOLDER_COLUMNS, PAYER_KINDS, Account, Transaction
from services.boundary import command
from services.invoices.payment import PAYABLE
from services.money.accounts import (
    check_day_open,
    find_or_open,
    post,
    require_kind,
)
from services.money.invoices import pay_invoice

KEY_PREFIX = "bank:"


def payment_key(external_id: str) -> str:
    """Return the transaction key of a bank payment with this external id."""
    return f"{KEY_PREFIX}{external_id}"


def stored_payment(session, external_id: str) -> Transaction | None:
    """Return the invoice payment already posted for this external id, or None."""
    return session.scalar(select(Transaction).where(
        Transaction.idem_key == payment_key(external_id)))


def payer_holder(session, invoice: Invoice) -> dict:
    """Return the holder of the account that pays `invoice` (kind and holder column):
    the patient of an invoice to a patient, else the contract's payer — an
    organisation, an insurer or an individual (a contract has exactly one).

    Raises ValidationError for an invoice with no contract payer."""
    if invoice.kind == "patient":
        return {"kind": "patient", "patient_id": invoice.patient_id}
    contract = session.get(Contract, invoice.contract_id) if invoice.contract_id else None
    for kind in PAYER_KINDS:
        holder_id = getattr(contract, HOLDER_COLUMNS[kind], None) if contract else None
        if holder_id is not None:
            return {"kind": kind, HOLDER_COLUMNS[kind]: holder_id}
    raise ValidationError(_("У счёта нет плательщика по договору"), field="invoice")


def payer_account(session, rights, invoice: Invoice) -> Account:
    """Return the personal account the invoice's payer (a patient, an organisation, an
    insurer or an individual under a contract) holds in its branch, opened when
    missing: the import right is what posts a bank payment, and the payment needs an
    account to pass through («изменение» on that kind of account is still checked).

    Raises ValidationError for an invoice with no payer (`payer_holder`)."""
    holder = payer_holder(session, invoice)
    holder["branch_id"] = invoice.branch_id
    return find_or_open(session, holder)[0]


@command
def receive_invoice_payment(session, rights, *, external_id: str, invoice: Invoice,
                            amount: Decimal, paid_on: dt.date, note: str | None = None
                            ) -> Transaction:
    """Post a bank payment of `invoice`: a deposit on the payer's account, then the
    invoice paid from it. Returns the payment transaction (the stored one for an
    external id already posted).

    Raises Forbidden (the account's right), ValidationError (not payable, more than is
    left, a closed period, a payment dated in the future)."""
    done = stored_payment(session, external_id)
    if done is not None:
        return done
    if paid_on > dt.date.today():
        raise ValidationError(_("Дата платежа в будущем"), field="paid_on")
    if invoice.state not in PAYABLE or invoice.state == "paid":
        raise ValidationError(_("Счёт не оплачивается: он не подтверждён, отменён или уже "
                                "оплачен"), field="invoice")
    left = invoice.total - (invoice.paid_amount or Decimal("0"))
    if amount > left:
        raise ValidationError(_("К оплате по счёту осталось %(n)s", n=left), field="amount")
    account = payer_account(session, rights, invoice)
    require_kind(rights, account.kind, "edit")
    check_day_open(session, invoice.branch_id, rights)
    text = _("Платёж № %(n)s от %(d)s", n=external_id, d=f"{paid_on:%d.%m.%Y}")
    if note:
        text = f"{text}: {note}"[:500]
    key = payment_key(external_id)
    post(session, account, "deposit", amount, amount, key=f"{key}:deposit",
         user_id=rights.user_id, note=text)
    tx = pay_invoice(session, rights, key=key, account_id=account.id, invoice_id=invoice.id,
                     amount=amount)
    tx.note = text
    return tx
