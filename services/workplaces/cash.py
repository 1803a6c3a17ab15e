"""The cashier's day: the registers of his branches with their open shifts, and the
patients whose services of today wait to be paid at the desk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, select

from models.money import Receipt, Register, Shift
from models.patients import Patient
from models.vouchers import Voucher, VoucherLine
from security.scope import scoped
from services.money import statements
from services.money.accounts import line_paid

#: How many patients the panel lists; the cash desk finds the others by name.
SHOWN = 10


@dataclass(frozen=True)
class RegisterDay:
    """A register, its open shift (None when none is open) and that shift's
    confirmed sale and refund receipts: how many, and sales less refunds."""

    register: Register
    shift: Shift | None
    receipts: int
    takings: Decimal


@dataclass(frozen=True)
class Waiting:
    """A patient with today's services he pays himself and what is left to pay."""

    patient: Patient
    lines: int
    left: Decimal


def registers_today(session, rights) -> list[RegisterDay]:
    """Return the registers the user may work with, by name, each with its open shift
    and that shift's takings."""
    days = []
    for register in statements.registers(session, rights):
        shift = session.scalar(select(Shift).where(Shift.register_id == register.id,
                                                   Shift.state == "open").limit(1))
        count, takings = 0, Decimal("0")
        if shift is not None:
            signed = case((Receipt.kind == "refund", -Receipt.total), else_=Receipt.total)
            count, takings = session.execute(
                select(func.count(Receipt.id), func.coalesce(func.sum(signed), 0))
                .where(Receipt.shift_id == shift.id, Receipt.state == "confirmed",
                       Receipt.kind.in_(("sale", "refund")))).one()
        days.append(RegisterDay(register, shift, count, Decimal(takings)))
    return days


def waiting_today(session, rights, today: dt.date) -> dict:
    """Return {"rows": up to SHOWN patients (by name) with services of `today` they pay
    themselves and have not paid in full, "count": how many patients in all}."""
    # Not a join: the scope's rule on the voucher is a correlated EXISTS over it.
    patient_id = select(Voucher.patient_id).where(Voucher.id == VoucherLine.voucher_id) \
        .correlate(VoucherLine).scalar_subquery().label("patient_id")
    lines = session.execute(scoped(
        select(VoucherLine.id, VoucherLine.amount, patient_id)
        .where(VoucherLine.service_date == today, VoucherLine.payer_kind == "patient",
               VoucherLine.state == "rendered", VoucherLine.amount > 0),
        rights, model=VoucherLine)).all()
    paid = line_paid(session, [line.id for line in lines])
    owed: dict[int, list[Decimal]] = {}
    for line in lines:
        left = line.amount - paid.get(line.id, Decimal("0"))
        if left > 0:
            owed.setdefault(line.patient_id, []).append(left)
    patients = session.scalars(scoped(
        select(Patient).where(Patient.id.in_(list(owed)))
        .order_by(Patient.last_name, Patient.first_name).limit(SHOWN), rights)).all() \
        if owed else []
    return {"rows": [Waiting(p, len(owed[p.id]), sum(owed[p.id], Decimal("0")))
                     for p in patients], "count": len(owed)}
