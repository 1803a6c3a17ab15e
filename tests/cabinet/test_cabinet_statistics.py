"""Личный кабинет / Статистика as each demo cabinet user sees it, over HTTP: the
offices his role allows and no other, the cost only with «Просмотр информации о
стоимости» — on the page, in the XLSX export and in the JSON — and figures equal to
the vouchers counted here in Python from the rows themselves."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models.org import Unit, UnitClosure
from models.vouchers import Voucher
from tests.support import unit

TODAY = dt.date.today()
START = TODAY - dt.timedelta(days=60)
PERIOD = {"start": START.isoformat(), "end": TODAY.isoformat()}
#: Demo user -> (the offices whose subtrees he sees, whether he sees the cost).
ROLES = {
    "client_head": (["CL1-HQ"], True),
    "client_branch": (["CL1-B1"], True),
    "client_user": (["CL1-B2"], False),
    "manager": (["CL1", "CL2"], True),
    "assistant": (["CL1", "CL2"], True),
}


def offices(session, roots) -> set[int]:
    ids = set()
    for code in roots:
        ids |= set(session.scalars(select(UnitClosure.descendant_id).where(
            UnitClosure.ancestor_id == unit(session, code).id)))
    return ids


def expected(session, office_ids) -> dict[str, tuple]:
    """Office name -> (visits, patients, tests, cost), counted from the vouchers."""
    rows = session.scalars(select(Voucher).where(
        Voucher.referring_unit_id.in_(office_ids), Voucher.service_date >= START,
        Voucher.service_date <= TODAY)).all()
    grouped = defaultdict(list)
    for voucher in rows:
        grouped[voucher.referring_unit_id].append(voucher)
    return {session.get(Unit, key).name: (len(vs), len({v.patient_id for v in vs}),
                                          sum(v.line_count for v in vs),
                                          sum((v.total for v in vs), Decimal(0)))
            for key, vs in grouped.items()}


@pytest.mark.parametrize("username", sorted(ROLES))
def test_each_cabinet_user_sees_his_offices_and_the_cost_his_role_allows(session, login,
                                                                        username):
    roots, with_cost = ROLES[username]
    mine = expected(session, offices(session, roots))
    every = expected(session, offices(session, ["CL1", "CL2", "CL3"]))
    assert mine and set(every) - set(mine), "the demo must have offices in and out of scope"
    client = login(username)
    body = client.get("/cabinet/statistics/data", query_string=PERIOD).get_json()
    got = {row["label"]: (row["visits"], row["patients"], row["tests"],
                          Decimal(row["cost"]) if with_cost else None)
           for row in body["by_unit"]}
    assert got == {name: (*figures[:3], figures[3] if with_cost else None)
                   for name, figures in mine.items()}
    assert all(("cost" in row) is with_cost for row in [*body["by_unit"], body["total"],
                                                       *body["by_period"]])
    assert body["total"]["visits"] == sum(f[0] for f in mine.values())
    assert sum(row["visits"] for row in body["by_period"]) == body["total"]["visits"]

    page = client.get("/cabinet/statistics/", query_string=PERIOD).get_data(as_text=True)
    for name in mine:
        assert name in page
    for name in set(every) - set(mine):
        assert name not in page
    assert ("Стоимость, руб." in page) is with_cost

    export = client.get("/cabinet/statistics/export", query_string=PERIOD)
    sheet = load_workbook(io.BytesIO(export.data)).active
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    assert ("Стоимость, руб." in header) is with_cost
    labels = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(mine) <= labels and not (set(every) - set(mine)) & labels


def test_the_drill_down_lists_an_offices_patients_inside_the_scope_only(session, login):
    client = login("client_branch")
    own, other = unit(session, "CL1-B1"), unit(session, "CL1-B2")
    page = client.get(f"/cabinet/statistics/unit/{own.id}", query_string=PERIOD)
    assert page.status_code == 200
    visits = session.scalars(select(Voucher).where(
        Voucher.referring_unit_id == own.id, Voucher.service_date >= START)).all()
    for voucher in visits:
        assert voucher.patient.last_name in page.get_data(as_text=True)
    assert client.get(f"/cabinet/statistics/unit/{other.id}",
                      query_string=PERIOD).status_code == 404
    doctor = login("client_user")
    page = doctor.get(f"/cabinet/statistics/unit/{other.id}", query_string=PERIOD)
    assert page.status_code == 200 and "Стоимость" not in page.get_data(as_text=True)


@pytest.mark.parametrize(("start", "end", "said"), [
    ("2026-02-30", TODAY.isoformat(), "Дата «2026-02-30» не распознана"),
    (TODAY.isoformat(), START.isoformat(), "Конец периода раньше его начала"),
    ("2024-01-01", "2025-06-01", "Период — не больше года"),
])
def test_a_bad_period_is_refused_in_russian(login, start, end, said):
    client = login("client_head")
    page = client.get("/cabinet/statistics/", query_string={"start": start, "end": end})
    assert page.status_code == 400 and said in page.get_data(as_text=True)
    data = client.get("/cabinet/statistics/data", query_string={"start": start, "end": end})
    assert data.status_code == 400 and data.get_json()["message"] == said


def test_back_office_and_cabinet_stay_apart(login):
    registrar = login("registrar")
    assert registrar.get("/cabinet/statistics/").status_code in (302, 403)
    cabinet = login("client_user")
    for url in ("/voucherview/list/", "/api/v1/vouchers/", "/patientview/list/"):
        assert cabinet.get(url).status_code in (302, 401, 403), url


def test_a_head_with_delegated_offices_sees_exactly_those(session, login):
    from tests.support import make_role, make_user

    role = make_role(session, "Руководитель с делегированными офисами", {
        "scope.data": "delegated", "cabinet.statistics": "yes", "cabinet.see_cost": "yes"})
    delegated = [unit(session, "CL1-B1"), unit(session, "CL2-B1")]
    make_user(session, "delegated_head", roles=[role], home_unit=unit(session, "CL1-B1"),
              extra_units=delegated)
    expected_names = set(expected(session, {u.id for u in delegated}))
    body = login("delegated_head").get("/cabinet/statistics/data",
                                       query_string=PERIOD).get_json()
    assert {row["label"] for row in body["by_unit"]} == expected_names
    assert expected_names == {u.name for u in delegated}


def test_the_drill_down_reaches_a_patients_visits_and_tests(session, login):
    from services.contracts.rules import money

    b1, b2 = unit(session, "CL1-B1").id, unit(session, "CL1-B2").id
    own = session.scalars(select(Voucher).where(
        Voucher.referring_unit_id == b1, Voucher.service_date >= START,
        Voucher.line_count > 0).order_by(Voucher.id)).first()
    client = login("client_branch")
    page = client.get(f"/cabinet/statistics/patient/{own.patient_id}", query_string=PERIOD)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert all(line.service.name in body for line in own.lines if line.state != "cancelled")
    # A patient only CL1-B2 sent is not CL1-B1's to look at.
    sent_by_b1 = select(Voucher.patient_id).where(Voucher.referring_unit_id == b1)
    foreign = session.scalars(select(Voucher).where(
        Voucher.referring_unit_id == b2, Voucher.service_date >= START,
        Voucher.patient_id.not_in(sent_by_b1))).first()
    assert client.get(f"/cabinet/statistics/patient/{foreign.patient_id}",
                      query_string=PERIOD).status_code == 404
    doctor = login("client_user")  # CL1-B2, no cost
    seen = doctor.get(f"/cabinet/statistics/patient/{foreign.patient_id}", query_string=PERIOD)
    assert seen.status_code == 200
    assert money(foreign.total) not in seen.get_data(as_text=True)


def test_the_statistics_workbook_writes_an_office_named_like_a_formula_as_text(session,
                                                                               login):
    """Issue 20, item 5: an office's name is typed by a user; it is a string cell."""
    office = unit(session, "CL1-B1")
    office.name = '=HYPERLINK("http://evil.example";"Отчёт")'
    session.commit()
    export = login("client_branch").get("/cabinet/statistics/export", query_string=PERIOD)
    sheet = load_workbook(io.BytesIO(export.data)).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    named = [cell for cell in cells if cell.value == office.name]
    assert named and all(cell.data_type == "s" for cell in named)
    assert all(isinstance(row[1], int) for row in sheet.iter_rows(min_row=2, values_only=True))
