"""Two registrars change vouchers of one branch and day at the same moment on
PostgreSQL: both saves succeed and the branch's day in the rollups is what the
vouchers add up to (before the rollups locked their keys, the later commit died on
a unique violation of `stat_branch_day`); two offices giving one patient a visit
at once count him once in their head office's year."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from tests.money.test_concurrency import pg_app  # noqa: F401  (the fixture)

pytestmark = pytest.mark.no_db_isolation


def test_two_transactions_of_one_branch_and_day_both_commit(pg_app):  # noqa: F811
    from app.extensions import db
    from models.rollups import BranchDay
    from models.vouchers import Voucher

    with pg_app.app_context():
        branch, day = db.session.execute(
            select(Voucher.branch_id, Voucher.service_date)
            .group_by(Voucher.branch_id, Voucher.service_date)
            .having(func.count() >= 2).limit(1)).one()
        first, second = db.session.scalars(select(Voucher.id).where(
            Voucher.branch_id == branch, Voucher.service_date == day).limit(2)).all()
        db.session.remove()

    flushed = threading.Event()
    errors: list[BaseException] = []

    def change(voucher_id: int, hold: bool) -> None:
        with pg_app.app_context():
            try:
                if not hold:
                    flushed.wait(30)
                voucher = db.session.get(Voucher, voucher_id)
                voucher.version += 1
                # The rollups' figures of the day change too: the line count is
                # what the flush recomputes them from.
                db.session.flush()
                if hold:
                    flushed.set()
                    # Keep the transaction open while the other one flushes.
                    threading.Event().wait(1.5)
                db.session.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)
                flushed.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=change, args=(first, True)),
               threading.Thread(target=change, args=(second, False))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with pg_app.app_context():
        stored = db.session.get(BranchDay, (branch, day))
        visits = db.session.scalar(select(func.count(Voucher.id)).where(
            Voucher.branch_id == branch, Voucher.service_date == day))
        assert stored is not None and stored.visits == visits


def test_two_offices_giving_one_patient_a_visit_at_once_count_him_once(pg_app):  # noqa: F811
    """Two transactions of different offices and days share the patient's members of
    the head office's year: the (patient, year) lock makes the later one count from
    the earlier one's commit (without it: a unique violation, or a lost member)."""
    from app.extensions import db
    from models.org import Unit, UnitClosure
    from models.patients import Patient
    from models.rollups import PatientPeriod
    from models.vouchers import Voucher
    from services.stat_periods import read

    with pg_app.app_context():
        offices = {code: db.session.scalar(select(Unit.id).where(Unit.code == code))
                   for code in ("CL1-HQ", "CL1-B1", "CL1-B2")}
        year = db.session.scalar(select(func.max(Voucher.service_date)).where(
            Voucher.referring_unit_id == offices["CL1-B1"])).year
        vouchers = []
        for code in ("CL1-B1", "CL1-B2"):
            vouchers.append(db.session.scalar(select(Voucher.id).where(
                Voucher.referring_unit_id == offices[code],
                func.extract("year", Voucher.service_date) == year).limit(1)))
        template = db.session.get(Patient, db.session.scalar(
            select(Voucher.patient_id).where(Voucher.id == vouchers[0])))
        newcomer = Patient(last_name="Одновременный", first_name="Пациент",
                           birth_date=template.birth_date, sex=template.sex,
                           home_branch_id=template.home_branch_id)
        db.session.add(newcomer)
        db.session.commit()
        person = newcomer.id
        db.session.remove()

    flushed = threading.Event()
    errors: list[BaseException] = []

    def change(voucher_id: int, hold: bool) -> None:
        with pg_app.app_context():
            try:
                if not hold:
                    flushed.wait(30)
                db.session.get(Voucher, voucher_id).patient_id = person
                db.session.flush()
                if hold:
                    flushed.set()
                    threading.Event().wait(1.5)
                db.session.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)
                flushed.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=change, args=(vouchers[0], True)),
               threading.Thread(target=change, args=(vouchers[1], False))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with pg_app.app_context():
        first = dt.date(year, 1, 1)
        key = (offices["CL1-HQ"], True, "year", first)
        counted = read(db.session, [key], dt.date(year, 12, 31))[key]
        head = select(UnitClosure.descendant_id).where(
            UnitClosure.ancestor_id == offices["CL1-HQ"])
        fresh = db.session.scalar(select(func.count(func.distinct(Voucher.patient_id))).where(
            Voucher.referring_unit_id.in_(head),
            Voucher.service_date.between(first, dt.date(year, 12, 31))))
        assert counted == fresh
        assert db.session.scalar(select(func.count()).select_from(PatientPeriod).where(
            PatientPeriod.patient_id == person, PatientPeriod.unit_id == offices["CL1-HQ"],
            PatientPeriod.subtree.is_(True), PatientPeriod.kind == "year")) == 1
