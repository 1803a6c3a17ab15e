"""What the invoice card and list read: the actions a user may take on an invoice
(the buttons; each action's service checks again), the owed lines a form offers,
the contracts an accountant can invoice."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models.contracts import Contract
from models.invoices import KIND_RIGHTS, Invoice, InvoiceLine
from models.vouchers import Voucher, VoucherLine
from security.scope import scoped
from services.invoices.create import _of_patient, patient_lines
from services.invoices.rules import REMOVE_CONFIRMED_RIGHT, STORNO_RIGHT, SUB_RIGHTS

CONFIRMED = ("confirmed", "partly_paid", "paid")


def _sub(rights, kind: str, what: str) -> bool:
    code = SUB_RIGHTS[kind].get(what)
    return rights.allows(KIND_RIGHTS[kind], "delete") if code is None else rights.allows(code)


def allowed_actions(invoice: Invoice, rights) -> set[str]:
    """Return the actions the card offers: "confirm", "cancel", "storno",
    "remove_line", "edit"; "print" always (the user reads the invoice)."""
    actions = {"print"}
    if not rights.allows(KIND_RIGHTS[invoice.kind], "edit"):
        return actions
    reversing = invoice.storno_of_id is not None
    unpaid = not invoice.paid_amount
    if invoice.state == "draft":
        actions |= {"cancel", "remove_line", "edit"}
        if _sub(rights, invoice.kind, "confirm"):
            actions.add("confirm")
    elif invoice.state in CONFIRMED and not reversing:
        if unpaid and _sub(rights, invoice.kind, "cancel_confirmed"):
            actions.add("cancel")
        if unpaid and rights.allows(STORNO_RIGHT):
            actions.add("storno")
        if unpaid and rights.allows(REMOVE_CONFIRMED_RIGHT) and len(invoice.lines) > 1:
            actions.add("remove_line")
        if _sub(rights, invoice.kind, "edit_confirmed"):
            actions.add("edit")
    return actions


def card_lines(session, invoice: Invoice) -> list[InvoiceLine]:
    """Return the invoice's lines with their voucher line, service, voucher and
    patient loaded (a fixed number of queries)."""
    return session.scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
        .options(selectinload(InvoiceLine.voucher_line).selectinload(VoucherLine.service),
                 selectinload(InvoiceLine.voucher_line).selectinload(VoucherLine.voucher)
                 .selectinload(Voucher.patient))
        .order_by(InvoiceLine.service_date, InvoiceLine.id)).all()


def owed_patient_lines(session, patient_id: int, rights) -> list[VoucherLine]:
    """Return the patient's own rendered lines the user sees, in every branch."""
    stmt = (select(VoucherLine)
            .where(_of_patient(patient_id), VoucherLine.payer_kind == "patient",
                   VoucherLine.state == "rendered")
            .options(selectinload(VoucherLine.service), selectinload(VoucherLine.voucher))
            .order_by(VoucherLine.service_date, VoucherLine.id))
    return session.scalars(scoped(stmt, rights, model=VoucherLine)).all()


def invoiceable_contracts(session, rights, kind: str) -> list[Contract]:
    """Return the contracts the user reads whose payer takes invoices of `kind`."""
    stmt = select(Contract).order_by(Contract.number)
    if kind == "individual":
        stmt = stmt.where(Contract.individual_id.is_not(None))
    else:
        stmt = stmt.where((Contract.insurer_id.is_not(None))
                          | (Contract.organisation_id.is_not(None)))
    return session.scalars(scoped(stmt, rights)).all()


__all__ = ["allowed_actions", "card_lines", "invoiceable_contracts", "owed_patient_lines",
           "patient_lines"]


def find_patient(session, rights, patient_id):
    """Return the patient the user sees, or None."""
    from models.patients import Patient

    if patient_id is None or abs(patient_id) >= 2**31:
        return None
    return session.scalar(scoped(select(Patient).where(Patient.id == patient_id), rights))


def search_patients(session, rights, where: list, limit: int = 20) -> list:
    """Return up to `limit` patients the user sees matching `where` (none without it)."""
    from models.patients import Patient

    if not where:
        return []
    return session.scalars(scoped(select(Patient).where(*where)
                                  .order_by(Patient.last_name, Patient.first_name)
                                  .limit(limit), rights)).all()


def patients_owing(session, rights, limit: int = 20) -> list:
    """Return up to `limit` patients the user sees who owe rendered services of their
    own in lines he sees, by name: where a registrar starts invoicing."""
    from models.patients import Patient

    owing = scoped(select(Voucher.patient_id).where(Voucher.id.in_(
        scoped(select(VoucherLine.voucher_id).where(VoucherLine.payer_kind == "patient",
                                                    VoucherLine.state == "rendered"),
               rights, model=VoucherLine))), rights, model=Voucher)
    return session.scalars(scoped(select(Patient).where(Patient.id.in_(owing))
                                  .order_by(Patient.last_name, Patient.first_name)
                                  .limit(limit), rights)).all()
