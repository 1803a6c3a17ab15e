"""Demo vouchers: a few weeks of services in every branch, entered as the branch's
registrar would, through the same voucher and line rules the screens use."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.org import Unit
from models.patients import Attachment, Patient
from models.pricelist import Price, Service
from models.programmes import ProgrammeService
from models.referrals import Referral
from models.staff import Employee
from models.user import AppUser
from models.vouchers import Voucher, VoucherLine
from security.effective import resolve
from services.vouchers.lines import check_line
from services.vouchers.rules import check_header

SEED = 20261123
DAYS = 45
PER_BRANCH_PER_WEEK = 6
#: Vouchers of today per branch, on top of the weeks before.
TODAY_PER_BRANCH = 3
REFERRALS_PER_BRANCH = 4
#: The share of visits sent by a corporate client's office (the cabinet's statistics).
REFERRED_SHARE = 0.6


def _priced_services(session) -> list[int]:
    """Services with a price (paid patients can be served with them)."""
    return list(session.scalars(select(Service.id).join(Price, Price.service_id == Service.id)
                                .distinct().order_by(Service.id)))


def load_vouchers(session: Session, units: dict[str, Unit]) -> dict[str, int]:
    """Add vouchers with one to three lines for patients of every branch over the last
    weeks (flushed, not committed); return counts. The admin's rights pass every rule;
    warnings (no nurse, no diagnosis) are confirmed as a registrar would."""
    rng = random.Random(SEED)
    admin = session.scalar(select(AppUser).where(AppUser.username == "admin"))
    rights = resolve(session, admin)
    today = dt.date.today()
    services = _priced_services(session)
    # Client offices that send patients; a rng of their own keeps the rest as it was.
    offices = [u for code, u in sorted(units.items()) if code.startswith("CL") and "-" in code]
    referrer = random.Random(SEED + 2)
    todays = random.Random(SEED + 3)
    vouchers = lines = 0
    for _code, branch in sorted(units.items()):
        patients = session.scalars(select(Patient).where(Patient.home_branch_id == branch.id)
                                   .order_by(Patient.id)).all()
        staff = session.scalars(select(Employee).where(Employee.branch_id == branch.id)
                                .order_by(Employee.id)).all()
        if not patients or not staff:
            continue
        doctors = [e for e in staff if e.is_doctor] or staff
        nurses = [e for e in staff if not e.is_doctor]
        for _ in range(DAYS // 7 * PER_BRANCH_PER_WEEK):
            lines += _visit(session, rights, admin, rng, referrer, offices, branch, patients,
                            doctors, nurses, services,
                            lambda: today - dt.timedelta(days=rng.randrange(DAYS)), today)
            vouchers += 1
        # Today's patients, not paid yet: the cashier's home has someone to take money
        # from. A generator of their own keeps the days above as they were.
        for _ in range(TODAY_PER_BRANCH):
            lines += _visit(session, rights, admin, todays, todays, offices, branch,
                            patients, doctors, nurses, services, lambda: today, today)
            vouchers += 1
    return {"vouchers": vouchers, "voucher_lines": lines}


def _visit(session, rights, admin, rng, referrer, offices, branch, patients, doctors, nurses,
           services, day, today) -> int:
    """Add one voucher of `branch` on `day()` with one to three lines through the rules
    (flushed); return the number of lines. The draws keep the order they always had."""
    patient = rng.choice(patients)
    doctor = rng.choice(doctors)
    voucher = Voucher(service_date=day(), kind="regular", branch=branch, patient=patient,
                      doctor=doctor, department=doctor.department,
                      nurse=rng.choice(nurses) if nurses and rng.random() < .7 else None,
                      created_by=admin, version=1)
    if offices and referrer.random() < REFERRED_SHARE:
        voucher.referring_unit = referrer.choice(offices)
    session.add(voucher)
    check_header(session, voucher, rights, admin.id, today=today)
    covered = session.scalars(
        select(ProgrammeService.service_id).join(
            Attachment, Attachment.programme_id == ProgrammeService.programme_id)
        .where(Attachment.patient_id == patient.id)).all()
    count = rng.randint(1, 3)
    for _ in range(count):
        service_id = rng.choice(covered if covered and rng.random() < .6 else services)
        line = VoucherLine(voucher=voucher, service_id=service_id,
                           quantity=rng.choice((1, 1, 1, 2)))
        session.add(line)
        with session.no_autoflush:  # the price is set by the rule
            check_line(session, line, rights, admin.id, confirmed=True, today=today)
    session.flush()
    return count


def load_referrals(session: Session, units: dict[str, Unit]) -> dict[str, int]:
    """Add referrals not yet formed into vouchers: a few per branch, booked for the
    coming days, so «Сформировать талоны» has something to work on (flushed)."""
    rng = random.Random(SEED + 1)
    admin = session.scalar(select(AppUser).where(AppUser.username == "admin"))
    today = dt.date.today()
    services = _priced_services(session)
    count = 0
    for _code, branch in sorted(units.items()):
        patients = session.scalars(select(Patient).where(Patient.home_branch_id == branch.id)
                                   .order_by(Patient.id)).all()
        doctors = session.scalars(select(Employee).where(
            Employee.branch_id == branch.id, Employee.is_doctor.is_(True))
            .order_by(Employee.id)).all()
        if not patients or not doctors:
            continue
        for _ in range(REFERRALS_PER_BRANCH):
            session.add(Referral(issued_on=today - dt.timedelta(days=rng.randrange(5)),
                                 appointment_date=today + dt.timedelta(days=rng.randrange(7)),
                                 branch=branch, patient=rng.choice(patients),
                                 service_id=rng.choice(services), quantity=1,
                                 doctor=rng.choice(doctors), created_by=admin))
            count += 1
    session.flush()
    return {"referrals": count}
