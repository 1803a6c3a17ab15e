"""Demo money: an emulated register in every branch; in «Тверской» (the demo
cashier's branch) a closed shift (payments, a partial refund, a cash-in, its Z
report) and an open shift with payments, so «Касса» shows both; a deposit on an
organisation's account kept without the register («Не работать через кассу»); and
the account of the organisation that owes the demo's confirmed invoice under its
contract, working through the desk, in the contract's branch whose register has an
open shift, so its invoice is paid at the desk from the account's card. Everything
goes through the same services as the cash desk, as the administrator, and so
through the emulator."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.contracts import Contract
from models.invoices import Invoice
from models.money import Account, Register
from models.org import Unit, UnitKind
from models.parties import Organisation
from models.refbooks import PaymentSection
from models.user import AppUser
from models.vouchers import Voucher, VoucherLine
from security.effective import resolve
from services.money import payments, refunds, shifts
from services.money.accounts import new_key

CASHIER_BRANCH = "MSK-TVR"


def _unpaid_patients(session, branch_id: int, n: int) -> list[tuple[int, list[int]]]:
    """Return up to `n` patients of the branch with lines they pay, and those lines.
    Today's visits are left to pay: the cashier's home lists them."""
    rows = session.execute(select(Voucher.patient_id, VoucherLine.id).join(
        VoucherLine, VoucherLine.voucher_id == Voucher.id).where(
        Voucher.branch_id == branch_id, VoucherLine.payer_kind == "patient",
        Voucher.service_date < dt.date.today(),
        VoucherLine.state == "rendered").order_by(Voucher.service_date.desc(),
                                                  VoucherLine.id)).all()
    found: dict[int, list[int]] = {}
    for patient, line in rows:
        if patient in found or len(found) < n:
            found.setdefault(patient, []).append(line)
    return list(found.items())


def load_money(session: Session, units: dict[str, Unit]) -> dict[str, int]:
    """Add the registers and the shifts described in the module doc; returns counts."""
    admin = session.scalar(select(AppUser).where(AppUser.username == "admin"))
    rights = resolve(session, admin)
    section = session.scalar(select(PaymentSection).order_by(PaymentSection.register_section))
    registers = {}
    for code, unit in sorted(units.items()):
        if unit.kind == UnitKind.branch:
            registers[code] = Register(branch=unit, name=f"Касса 1 ({unit.name})",
                                       serial=f"EMU-{code}", default_section=section,
                                       vat_rate=-1, enabled=True)
            session.add(registers[code])
    session.flush()
    register = registers[CASHIER_BRANCH]
    patients = _unpaid_patients(session, register.branch_id, 5)
    receipts = 0

    def pay(patient_id, line_ids):
        payments.take_payment(session, rights, key=new_key(), register_id=register.id,
                              patient_id=patient_id, cashier="Смирнова Ольга",
                              choices=[payments.LineChoice(line) for line in line_ids])

    # Yesterday's shift: three patients paid, one line partly refunded, closed by its Z.
    shifts.open_shift(session, rights, register.id, key=new_key(), cashier="Смирнова Ольга")
    shifts.cash_move(session, rights, register.id, "cash_in", Decimal("5000.00"),
                     key=new_key(), cashier="Смирнова Ольга")
    for patient_id, line_ids in patients[:3]:
        pay(patient_id, line_ids)
        receipts += 1
    first_patient, first_lines = patients[0]
    account = session.scalar(select(Account).where(Account.patient_id == first_patient,
                                                   Account.branch_id == register.branch_id))
    line = session.get(VoucherLine, first_lines[0])
    refunds.refund(session, rights, key=new_key(), register_id=register.id,
                   account_id=account.id, line_id=line.id,
                   amount=(line.amount / 2).quantize(Decimal("0.01")), cashier="Смирнова Ольга")
    shifts.z_report(session, rights, register.id, key=new_key(), cashier="Смирнова Ольга")
    # Today's shift, open: two more patients.
    shifts.open_shift(session, rights, register.id, key=new_key(), cashier="Смирнова Ольга")
    for patient_id, line_ids in patients[3:5]:
        pay(patient_id, line_ids)
        receipts += 1
    # An organisation's account, kept without the register (a transfer from its bank).
    organisation = session.scalar(select(Organisation).order_by(Organisation.id))
    if organisation is not None:
        org_account = Account(kind="organisation", organisation=organisation,
                              branch_id=register.branch_id, no_cash_desk=True,
                              balance=Decimal("0"), advance=Decimal("0"))
        session.add(org_account)
        session.flush()
        payments.deposit(session, rights, key=new_key(), register_id=register.id,
                         account_id=org_account.id, amount=Decimal("150000.00"))
    _desk_organisation(session, rights, registers)
    return {"registers": len(registers), "receipts": receipts}


def _desk_organisation(session, rights, registers: dict[str, Register]) -> None:
    """Open the account of the organisation owing the first confirmed invoice under
    its contract (working through the desk) in the invoice's branch, and a shift on
    that branch's register (the cashier's «Тверской» has one already)."""
    found = session.execute(select(Invoice.branch_id, Contract.organisation_id).join(
        Contract, Contract.id == Invoice.contract_id).where(
        Invoice.state == "confirmed", Contract.organisation_id.is_not(None))
        .order_by(Invoice.id).limit(1)).first()
    if found is None:
        return
    branch_id, organisation_id = found
    session.add(Account(kind="organisation", organisation_id=organisation_id,
                        branch_id=branch_id, no_cash_desk=False,
                        balance=Decimal("0"), advance=Decimal("0")))
    register = next(r for r in registers.values() if r.branch_id == branch_id)
    if register.branch.code != CASHIER_BRANCH:
        shifts.open_shift(session, rights, register.id, key=new_key(), cashier="Смирнова Ольга")
    session.flush()
