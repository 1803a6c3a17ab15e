"""Личный кабинет / Статистика for a calendar year or month by month reads its
distinct patients from the periods' counters (services.stat_periods) — never the
office-day-patient rollup nor the vouchers, so the page does not grow with them —
and shows the same figures a count(DISTINCT) over the vouchers gives: per office,
per month and in total (a patient of two offices counted once), inside the user's
scope only, the cost only with its right."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from models.org import Unit, UnitClosure
from models.vouchers import Voucher
from services.stat_periods import start_of
from tests.contract_rows import patient
from tests.support import unit
from tests.voucher_rows import VOUCHERS, employee, iso, voucher_user

TODAY = dt.date.today()
YEAR = {"start": start_of("year", TODAY).isoformat(), "end": TODAY.isoformat(),
        "grouping": "month"}
LAST_MONTH_END = start_of("month", TODAY) - dt.timedelta(days=1)
LAST_MONTH = {"start": start_of("month", LAST_MONTH_END).isoformat(),
              "end": LAST_MONTH_END.isoformat(), "grouping": "month"}
ROLLING = {"start": (TODAY - dt.timedelta(days=60)).isoformat(), "end": TODAY.isoformat(),
           "grouping": "month"}


def subtree(session, code: str) -> list[int]:
    return list(session.scalars(select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id == unit(session, code).id)))


def distinct(session, offices, first: dt.date, last: dt.date, month: dt.date | None = None):
    """Return count(DISTINCT patient_id) of the offices' vouchers in the period (in
    one of its months)."""
    where = [Voucher.referring_unit_id.in_(offices), Voucher.service_date.between(first, last)]
    if month is not None:
        nxt = (month + dt.timedelta(days=32)).replace(day=1)
        where += [Voucher.service_date >= month, Voucher.service_date < nxt]
    return session.scalar(select(func.count(func.distinct(Voucher.patient_id))).where(*where))


def check_figures(session, body, offices, period) -> None:
    """The JSON's patients equal a fresh count over the vouchers, row by row."""
    first, last = (dt.date.fromisoformat(period[k]) for k in ("start", "end"))
    names = {u.name: u.id for u in session.scalars(select(Unit).where(Unit.id.in_(offices)))}
    assert body["by_unit"], "the demo must have visits in the period"
    for row in body["by_unit"]:
        assert row["patients"] == distinct(session, [names[row["label"]]], first, last)
    for row in body["by_period"]:
        month = dt.date.fromisoformat(row["key"])
        assert row["patients"] == distinct(session, offices, first, last, month)
    assert body["total"]["patients"] == distinct(session, offices, first, last)


@pytest.mark.parametrize("period", [YEAR, LAST_MONTH], ids=["this year", "last month"])
def test_a_calendar_period_reads_the_counters_and_counts_exactly(session, login,
                                                                 count_queries, period):
    client = login("client_head")
    with count_queries() as statements:
        body = client.get("/cabinet/statistics/data", query_string=period).get_json()
        page = client.get("/cabinet/statistics/", query_string=period)
    assert page.status_code == 200
    check_figures(session, body, subtree(session, "CL1-HQ"), period)
    read = " ".join(statements)
    assert "stat_period_patients" in read
    # Neither the JSON nor the page (with its month-against-last tiles) reads a
    # table that grows with the vouchers.
    assert "stat_office_patient_day" not in read
    assert "FROM vch_voucher" not in read


def test_another_period_keeps_counting_over_the_day_rollup(session, login, count_queries):
    client = login("client_head")
    with count_queries() as statements:
        body = client.get("/cabinet/statistics/data", query_string=ROLLING).get_json()
    check_figures(session, body, subtree(session, "CL1-HQ"), ROLLING)
    assert "stat_office_patient_day" in " ".join(statements)


def test_a_patient_of_two_offices_counts_once_in_the_total(session, login):
    rights = {"voucher.others_edit_delete": "yes"}
    writer, _ = voucher_user(session, login, rights, scope="all")
    person, doctor = patient(session), employee(session)
    session.commit()
    for code in ("CL1-B1", "CL1-B2"):
        made = writer.post(VOUCHERS, json={
            "service_date": iso(TODAY), "kind": "regular",
            "branch": unit(session, "MSK-TVR").id, "patient": person.id,
            "doctor": doctor.id, "referring_unit": unit(session, code).id})
        assert made.status_code == 201, made.get_json()
    body = login("client_head").get("/cabinet/statistics/data",
                                    query_string=YEAR).get_json()
    check_figures(session, body, subtree(session, "CL1-HQ"), YEAR)
    by_name = {row["label"]: row["patients"] for row in body["by_unit"]}
    assert body["total"]["patients"] < sum(by_name.values())


def test_the_scope_and_the_cost_right_hold_on_the_counters(session, login, count_queries):
    branch, other = unit(session, "CL1-B1"), unit(session, "CL1-B2")
    director = login("client_branch")  # CL1-B1, with costs
    with count_queries() as statements:
        body = director.get("/cabinet/statistics/data", query_string=YEAR).get_json()
    assert "stat_period_patients" in " ".join(statements)
    assert [row["label"] for row in body["by_unit"]] == [branch.name]
    check_figures(session, body, [branch.id], YEAR)
    assert "cost" in body["total"]

    outside = director.get("/cabinet/statistics/data",
                           query_string={**YEAR, "unit": other.id}).get_json()
    assert outside["by_unit"] == [] and outside["by_period"] == []
    assert (outside["total"]["visits"], outside["total"]["patients"]) == (0, 0)

    doctor = login("client_user")  # CL1-B2, no cost
    body = doctor.get("/cabinet/statistics/data", query_string=YEAR).get_json()
    check_figures(session, body, [other.id], YEAR)
    assert all("cost" not in row for row in [*body["by_unit"], *body["by_period"],
                                             body["total"]])


def test_one_office_of_the_head_counts_its_own_visits_only(session, login):
    head = unit(session, "CL1-HQ")
    body = login("client_head").get("/cabinet/statistics/data",
                                    query_string={**YEAR, "unit": head.id}).get_json()
    assert [row["label"] for row in body["by_unit"]] in ([head.name], [])
    first, last = dt.date.fromisoformat(YEAR["start"]), TODAY
    assert body["total"]["patients"] == distinct(session, [head.id], first, last)


def test_the_page_offers_this_year_by_month_at_one_click(login, count_queries):
    import html
    import re

    client = login("client_head")
    page = html.unescape(client.get("/cabinet/statistics/").get_data(as_text=True))
    links = {label: href for href, label in re.findall(
        r'<a class="btn btn-link" href="([^"]+)">([^<]+)</a>', page)}
    assert set(links) >= {"Этот месяц", "Прошлый месяц", "Этот год по месяцам"}
    year = links["Этот год по месяцам"]
    assert f"start={YEAR['start']}" in year and "grouping=month" in year
    with count_queries() as statements:
        assert client.get(year).status_code == 200
    assert "stat_office_patient_day" not in " ".join(statements)
