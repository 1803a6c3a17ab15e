"""The statistics rollups (models.rollups) equal what the vouchers add up to after every
change a user makes over the API — a voucher created with lines, its date and
referring office changed, a line cancelled, a line and the voucher deleted — and
`flask uchet rollups rebuild` gives the same rows; the cabinet's statistics and the
manager's client figures read them."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from models.rollups import BranchDay, OfficeDay, OfficePatientDay
from models.vouchers import Voucher
from services.rollups import rebuild
from tests.contract_rows import patient
from tests.support import unit
from tests.voucher_rows import LINES, VOUCHERS, ago, employee, iso, service, voucher_user

RIGHTS = {"voucher.others_edit_delete": "yes", "voucher.cancel_services": "yes",
          "voucher.delete_services": "yes"}


def detail(session) -> dict:
    """Return the rollups' rows as counted here in Python from the stored vouchers."""
    session.expire_all()
    office, people, branch = (defaultdict(list), defaultdict(int), defaultdict(list))
    for v in session.scalars(select(Voucher)):
        branch[(v.branch_id, v.service_date)].append(v)
        if v.referring_unit_id is not None:
            office[(v.referring_unit_id, v.service_date)].append(v)
            people[(v.referring_unit_id, v.service_date, v.patient_id)] += 1

    def figures(vs):
        return (len(vs), len({v.patient_id for v in vs}), sum(v.line_count for v in vs),
                sum((v.total for v in vs), Decimal(0)))

    return {"office": {k: figures(vs) for k, vs in office.items()},
            "people": dict(people),
            "branch": {k: figures(vs) for k, vs in branch.items()}}


def rollups(session) -> dict:
    """Return the rollup rows as stored."""
    session.expire_all()
    return {
        "office": {(r.office_id, r.day): (r.visits, r.patients, r.tests, r.cost)
                   for r in session.scalars(select(OfficeDay))},
        "people": {(r.office_id, r.day, r.patient_id): r.visits
                   for r in session.scalars(select(OfficePatientDay))},
        "branch": {(r.branch_id, r.day): (r.visits, r.patients, r.tests, r.cost)
                   for r in session.scalars(select(BranchDay))},
    }


@pytest.fixture
def rows(session):
    made = SimpleNamespace(person=patient(session), other=patient(session),
                           doctor=employee(session), branch=unit(session, "MSK-TVR"),
                           office=unit(session, "CL1-B1"), office2=unit(session, "CL1-B2"),
                           item=service(session))
    session.commit()
    return made


def test_the_rollups_follow_every_change_of_a_voucher_and_its_lines(session, login, rows):
    client, _ = voucher_user(session, login, RIGHTS, scope="all")
    start = rollups(session)
    assert start == detail(session)
    day, moved_to = (rows.office.id, ago(2)), (rows.office2.id, ago(1))
    base = start["office"].get(day, (0, 0, 0, 0))

    made = client.post(VOUCHERS, json={
        "service_date": iso(ago(2)), "kind": "regular", "branch": rows.branch.id,
        "patient": rows.person.id, "doctor": rows.doctor.id,
        "referring_unit": rows.office.id})
    assert made.status_code == 201, made.get_json()
    vid = made.get_json()["id"]
    second = client.post(VOUCHERS, json={
        "service_date": iso(ago(2)), "kind": "regular", "branch": rows.branch.id,
        "patient": rows.other.id, "doctor": rows.doctor.id,
        "referring_unit": rows.office.id})
    assert second.status_code == 201, second.get_json()
    lines = []
    for _ in range(2):
        added = client.post(LINES, json={"voucher": vid, "service": rows.item.id,
                                         "quantity": 1})
        assert added.status_code == 201, added.get_json()
        lines.append(added.get_json()["id"])
    now = rollups(session)
    assert now == detail(session)
    # Two more visits, two more patients, two more tests.
    assert now["office"][day][:3] == (base[0] + 2, base[1] + 2, base[2] + 2)

    # Moved to another day and another office: both the old and the new keys follow.
    version = session.get(Voucher, vid).version
    moved = client.put(f"{VOUCHERS}{vid}", json={"service_date": iso(ago(1)),
                                                 "referring_unit": rows.office2.id,
                                                 "version": version})
    assert moved.status_code == 200, moved.get_json()
    now = rollups(session)
    assert now == detail(session)
    assert now["office"][day][:3] == (base[0] + 1, base[1] + 1, base[2])
    assert now["office"][moved_to][0] == start["office"].get(moved_to, (0,))[0] + 1

    cancelled = client.put(f"{LINES}{lines[0]}", json={"state": "cancelled"})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert rollups(session) == detail(session)

    assert client.delete(f"{LINES}{lines[1]}").status_code == 200
    assert rollups(session) == detail(session)

    assert client.delete(f"{VOUCHERS}{vid}").status_code == 200
    now = rollups(session)
    assert now == detail(session)
    assert now["office"].get(moved_to, (0,))[0] == start["office"].get(moved_to, (0,))[0]


def test_rebuild_gives_the_rows_the_hooks_keep(session, login, rows):
    client, _ = voucher_user(session, login, RIGHTS, scope="all")
    for person in (rows.person, rows.other, rows.person):
        assert client.post(VOUCHERS, json={
            "service_date": iso(ago(3)), "kind": "regular", "branch": rows.branch.id,
            "patient": person.id, "doctor": rows.doctor.id,
            "referring_unit": rows.office.id}).status_code == 201
    kept = rollups(session)
    before = detail(session)  # (the demo's vouchers of that day are counted too)
    assert kept == before
    rows_before = list(session.scalars(select(Voucher).where(
        Voucher.referring_unit_id == rows.office.id, Voucher.service_date == ago(3))))
    # Three visits of two patients: a patient counts once a day.
    assert kept["office"][(rows.office.id, ago(3))][:2] == (
        len(rows_before), len({v.patient_id for v in rows_before}))
    session.execute(OfficeDay.__table__.delete())  # lost, say, by a bulk import
    rebuild(session)
    session.commit()
    assert rollups(session) == kept


def test_the_cabinet_statistics_count_a_patient_once_over_days_and_offices(session, login,
                                                                           rows):
    client, _ = voucher_user(session, login, RIGHTS, scope="all")
    for office, day in ((rows.office, ago(5)), (rows.office, ago(4)), (rows.office2, ago(4))):
        assert client.post(VOUCHERS, json={
            "service_date": iso(day), "kind": "regular", "branch": rows.branch.id,
            "patient": rows.person.id, "doctor": rows.doctor.id,
            "referring_unit": office.id}).status_code == 201
    head = login("client_head")
    period = {"start": iso(ago(5)), "end": iso(ago(4)), "grouping": "day"}
    before = head.get("/cabinet/statistics/data", query_string=period).get_json()
    # The demo vouchers of those days are there too: compare with the detail.
    offices = {rows.office.id, rows.office2.id}
    session.expire_all()
    vouchers = session.scalars(select(Voucher).where(
        Voucher.service_date.between(ago(5), ago(4)),
        Voucher.referring_unit_id.in_(offices | _head_offices(session)))).all()
    assert before["total"]["patients"] == len({v.patient_id for v in vouchers})
    assert before["total"]["visits"] == len(vouchers)
    assert rows.person.id in {v.patient_id for v in vouchers}


def _head_offices(session) -> set[int]:
    from models.org import UnitClosure

    return set(session.scalars(select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id == unit(session, "CL1-HQ").id)))



def test_a_voucher_moved_without_its_old_date_loaded_leaves_no_stale_row(session, login,
                                                                         rows):
    client, _ = voucher_user(session, login, RIGHTS, scope="all")
    made = client.post(VOUCHERS, json={
        "service_date": iso(ago(6)), "kind": "regular", "branch": rows.branch.id,
        "patient": rows.person.id, "doctor": rows.doctor.id,
        "referring_unit": rows.office.id})
    assert made.status_code == 201
    session.expire_all()  # the old date is not loaded when the new one is set
    voucher = session.get(Voucher, made.get_json()["id"])
    session.expire(voucher)
    voucher.service_date = ago(7)
    session.commit()
    assert rollups(session) == detail(session)
