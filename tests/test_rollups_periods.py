"""The distinct patients of calendar months and years (services.stat_periods) equal a
fresh count(DISTINCT) over `vch_voucher` after every change a user makes over the
API — vouchers created, moved to another office, month and year, given to another
patient, deleted — for each office, and for each client-side unit over its subtree
(a patient of two offices of one client counts once there); and
`flask uchet rollups rebuild` gives the same rows, again and again."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from models.org import CLIENT_KINDS, Unit, UnitClosure
from models.rollups import PatientPeriod, PeriodPatients
from models.vouchers import Voucher
from services.rollups import rebuild
from services.stat_periods import read, start_of
from tests.contract_rows import patient
from tests.support import unit
from tests.voucher_rows import VOUCHERS, ago, employee, iso, service, voucher_user

RIGHTS = {"voucher.others_edit_delete": "yes", "voucher.delete_services": "yes"}


def expected(session) -> tuple[dict, Counter]:
    """Return the members and counters as counted here from the stored vouchers."""
    session.expire_all()
    ancestors: dict[int, list[int]] = {}
    for descendant, ancestor in session.execute(
            select(UnitClosure.descendant_id, UnitClosure.ancestor_id)
            .join(Unit, Unit.id == UnitClosure.ancestor_id)
            .where(Unit.kind.in_([k.value for k in CLIENT_KINDS]))):
        ancestors.setdefault(descendant, []).append(ancestor)
    members: dict[tuple, list] = {}
    for v in session.scalars(select(Voucher).where(Voucher.referring_unit_id.is_not(None))):
        for kind in ("month", "year"):
            start = start_of(kind, v.service_date)
            keys = [(v.referring_unit_id, False, kind, start, v.patient_id)]
            keys += [(a, True, kind, start, v.patient_id)
                     for a in ancestors.get(v.referring_unit_id, [])]
            for key in keys:
                member = members.setdefault(key, [v.service_date, 0])
                member[0], member[1] = min(member[0], v.service_date), member[1] + 1
    counters = Counter((*key[:4], first) for key, (first, _n) in members.items())
    return {k: tuple(v) for k, v in members.items()}, counters


def stored(session) -> tuple[dict, Counter]:
    """Return the members and the (non-zero) counters as stored."""
    session.expire_all()
    members = {(r.unit_id, r.subtree, r.kind, r.period_start, r.patient_id):
               (r.first_day, r.visits) for r in session.scalars(select(PatientPeriod))}
    counters = Counter({(r.unit_id, r.subtree, r.kind, r.period_start, r.first_day):
                        r.patients for r in session.scalars(select(PeriodPatients))
                        if r.patients})
    return members, counters


def fresh_count(session, offices, first: dt.date, last: dt.date) -> int:
    """Return count(DISTINCT patient_id) of the offices' vouchers between the days."""
    return session.scalar(select(func.count(func.distinct(Voucher.patient_id))).where(
        Voucher.referring_unit_id.in_(offices), Voucher.service_date.between(first, last)))


def subtree(session, code: str) -> list[int]:
    return list(session.scalars(select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id == unit(session, code).id)))


@pytest.fixture
def rows(session):
    made = SimpleNamespace(person=patient(session), other=patient(session),
                           doctor=employee(session), branch=unit(session, "MSK-TVR"),
                           head=unit(session, "CL1-HQ"), office=unit(session, "CL1-B1"),
                           office2=unit(session, "CL1-B2"), item=service(session))
    session.commit()
    return made


def _post(client, rows, day, person, office):
    made = client.post(VOUCHERS, json={
        "service_date": iso(day), "kind": "regular", "branch": rows.branch.id,
        "patient": person.id, "doctor": rows.doctor.id, "referring_unit": office.id})
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def _check(session, rows, day: dt.date) -> None:
    """The stored rows are the counted ones, and the head office's month and year of
    `day` read from the counters equal a fresh count(DISTINCT)."""
    assert stored(session) == expected(session)
    offices = subtree(session, "CL1-HQ")
    year, month = start_of("year", day), start_of("month", day)
    year_end = year.replace(month=12, day=31)
    counts = read(session, [(rows.head.id, True, "year", year),
                            (rows.head.id, True, "month", month),
                            (rows.office.id, False, "year", year)], day)
    assert counts[(rows.head.id, True, "year", year)] == fresh_count(
        session, offices, year, day)
    assert counts[(rows.head.id, True, "month", month)] == fresh_count(
        session, offices, month, day)
    assert counts[(rows.office.id, False, "year", year)] == fresh_count(
        session, [rows.office.id], year, day)
    whole = read(session, [(rows.head.id, True, "year", year)], year_end)
    assert whole[(rows.head.id, True, "year", year)] == fresh_count(
        session, offices, year, year_end)


def test_the_periods_follow_every_change_of_the_vouchers(session, login, rows):
    client, _ = voucher_user(session, login, RIGHTS, scope="all")
    assert stored(session) == expected(session)  # the demo's, built by the migration
    day = ago(3)
    year = start_of("year", day)
    offices = subtree(session, "CL1-HQ")
    before = read(session, [(rows.head.id, True, "year", year)], day)[
        (rows.head.id, True, "year", year)]

    # One patient at two offices of one client, twice: once in the head office's year.
    first = _post(client, rows, day, rows.person, rows.office)
    _post(client, rows, day, rows.person, rows.office2)
    _post(client, rows, day, rows.person, rows.office2)
    _check(session, rows, day)
    assert read(session, [(rows.head.id, True, "year", year)], day)[
        (rows.head.id, True, "year", year)] == before + 1
    assert fresh_count(session, offices, year, day) == before + 1

    # Moved to another month and another year, then to another patient.
    for change in ({"service_date": iso(ago(40))}, {"service_date": iso(ago(400))},
                   {"referring_unit": rows.head.id, "service_date": iso(ago(2))},
                   {"patient": rows.other.id}):
        version = session.get(Voucher, first).version
        moved = client.put(f"{VOUCHERS}{first}", json={**change, "version": version})
        assert moved.status_code == 200, (change, moved.get_json())
        for when in (day, ago(40), ago(400)):
            _check(session, rows, when)

    assert client.delete(f"{VOUCHERS}{first}").status_code == 200
    _check(session, rows, day)
    assert read(session, [(rows.head.id, True, "year", year)], day)[
        (rows.head.id, True, "year", year)] == before + 1


def test_rebuild_gives_the_rows_the_hooks_keep_and_is_idempotent(session, login, rows):
    client, _ = voucher_user(session, login, RIGHTS, scope="all")
    for person, office in ((rows.person, rows.office), (rows.other, rows.office2),
                           (rows.person, rows.office2)):
        _post(client, rows, ago(5), person, office)
    kept = stored(session)
    assert kept == expected(session)
    session.execute(PeriodPatients.__table__.delete())  # lost, say, by a bulk change
    rebuild(session)
    session.commit()
    assert stored(session) == kept
    rebuild(session)
    session.commit()
    assert stored(session) == kept


@pytest.mark.parametrize("side", ["parent_id", "parent"])
def test_an_office_moved_to_another_head_office_takes_its_patients_along(session, login,
                                                                         rows, side):
    client, _ = voucher_user(session, login, RIGHTS, scope="all")
    _post(client, rows, ago(2), rows.person, rows.office)
    other_head = unit(session, "CL2-HQ")
    office = session.get(Unit, rows.office.id)
    if side == "parent_id":
        office.parent_id = other_head.id
    else:
        office.parent = other_head
    session.commit()
    assert stored(session) == expected(session)
    year = start_of("year", ago(2))
    for code in ("CL1", "CL1-HQ", "CL2", "CL2-HQ"):
        key = (unit(session, code).id, True, "year", year)
        assert read(session, [key], ago(2))[key] == fresh_count(
            session, subtree(session, code), year, ago(2)), code
