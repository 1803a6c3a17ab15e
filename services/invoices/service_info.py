"""«Информация об оказанных пациенту услугах»: every line of a patient the user sees,
with its voucher, payer, the invoice that holds it and its payment state."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from core.errors import NotFound
from models.invoices import LIVE_STATES, Invoice, InvoiceLine
from models.patients import Patient
from models.vouchers import Voucher, VoucherLine
from security.scope import scoped

RIGHT = "service_info.view"


@dataclass(frozen=True)
class Rendered:
    """One line of the page."""

    line: VoucherLine
    invoice: Invoice | None


def patient_services(session, rights, patient_id) -> tuple[Patient, list[Rendered]]:
    """Return the patient and his lines (newest first) with the live invoice of each.

    Raises Forbidden without «Просмотр информации об оказанных пациенту услугах»,
    NotFound for a patient outside the user's scope."""
    rights.require(RIGHT)
    key = patient_id if isinstance(patient_id, int) and abs(patient_id) < 2**31 else None
    patient = session.scalar(scoped(select(Patient).where(Patient.id == key), rights)) \
        if key is not None else None
    if patient is None:
        raise NotFound(_("Пациент не найден"))
    live = and_(Invoice.id == InvoiceLine.invoice_id, Invoice.state.in_(LIVE_STATES),
                Invoice.storno_of_id.is_(None))
    stmt = (select(VoucherLine, Invoice)
            .where(VoucherLine.voucher_id.in_(select(Voucher.id)
                                              .where(Voucher.patient_id == patient.id)))
            .outerjoin(InvoiceLine, InvoiceLine.voucher_line_id == VoucherLine.id)
            .outerjoin(Invoice, live)
            .options(selectinload(VoucherLine.voucher), selectinload(VoucherLine.service),
                     selectinload(VoucherLine.contract))
            .order_by(VoucherLine.service_date.desc(), VoucherLine.id))
    rows = session.execute(scoped(stmt, rights, model=VoucherLine)).all()
    # A line reversed and invoiced again has several invoice lines: keep the live one.
    best: dict[int, Rendered] = {}
    for line, invoice in rows:
        if line.id not in best or invoice is not None:
            best[line.id] = Rendered(line, invoice)
    return patient, list(best.values())
