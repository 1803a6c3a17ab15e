"""Demo invoices: for the demo payers, invoices in every state — to patients of
«Тверской» (draft, confirmed, partly paid, paid, cancelled, reversed with its storno
invoice), to the insurers and organisations of contracts with services this month
(confirmed: the organisation's is paid at its cash desk in the demo of the
organisation's account, `demo.money`), to an individual (draft) — all made by the
invoice commands, as the screens make them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.contracts import Contract
from models.org import Unit
from models.user import AppUser
from models.vouchers import Voucher, VoucherLine
from security.effective import resolve
from services.boundary import transaction
from services.invoices import lifecycle
from services.invoices.create import contract_kind, invoice_contract, invoice_patient
from services.invoices.payment import record_payment

PATIENT_STATES = ("draft", "confirmed", "partly_paid", "paid", "cancelled", "reversed")


def _patients_owing(session, branch_id: int, count: int) -> list[int]:
    return list(session.scalars(
        select(Voucher.patient_id).join(VoucherLine, VoucherLine.voucher_id == Voucher.id)
        .where(VoucherLine.branch_id == branch_id, VoucherLine.payer_kind == "patient",
               VoucherLine.state == "rendered",
               # Today's visits are the cash desk's (the cashier's home lists them).
               VoucherLine.service_date < dt.date.today())
        .group_by(Voucher.patient_id).order_by(Voucher.patient_id).limit(count)))


def _contracts_owing(session, since: dt.date) -> list[Contract]:
    return list(session.scalars(
        select(Contract).join(VoucherLine, VoucherLine.contract_id == Contract.id)
        .where(VoucherLine.state == "rendered", VoucherLine.service_date >= since,
               VoucherLine.payer_kind.in_(("attachment", "contract")))
        .group_by(Contract.id).having(func.count() > 0).order_by(Contract.id)))


def _settle(session, rights, invoice, state: str) -> None:
    """Take a fresh draft to `state`."""
    if state == "draft":
        return
    if state == "cancelled":
        lifecycle.cancel(session, rights, invoice.id)
        return
    lifecycle.confirm(session, rights, invoice.id)
    if state == "partly_paid":
        record_payment(session, invoice, (invoice.total / 2).quantize(Decimal("0.01")))
    elif state == "paid":
        record_payment(session, invoice, invoice.total)
    elif state == "reversed":
        lifecycle.storno(session, rights, invoice.id, reason="Демо: разделение оплат")


def load_invoices(session: Session, units: dict[str, Unit]) -> dict[str, int]:
    """Make the demo invoices (one transaction); returns how many were made."""
    admin = session.scalar(select(AppUser).where(AppUser.username == "admin"))
    rights = resolve(session, admin)
    today = dt.date.today()
    made = 0
    with transaction(session):
        branch = units["MSK-TVR"]
        for patient_id, state in zip(_patients_owing(session, branch.id, len(PATIENT_STATES)),
                                     PATIENT_STATES, strict=False):
            invoice = invoice_patient(session, rights, patient_id=patient_id,
                                      branch_id=branch.id, note="Демо")
            _settle(session, rights, invoice, state)
            made += 1
        # Insurers and organisations: the first two confirmed (the second is an
        # organisation's, payable at the desk on its account); an individual: a draft.
        since = today - dt.timedelta(days=14)
        wanted = {"organisation": ["confirmed", "confirmed"], "individual": ["draft"]}
        for contract in _contracts_owing(session, since):
            states = wanted[contract_kind(contract)]
            if not states:
                continue
            invoice = invoice_contract(session, rights, contract_id=contract.id,
                                       period_from=since, period_to=today, note="Демо")
            _settle(session, rights, invoice, states.pop(0))
            made += 1
    return {"invoices": made}
