"""The cabinet's statistics read like a lab's portal: this month against the last
(cost only with «Просмотр информации о стоимости»), a chart with axes and every
period of the range, zeros included, and a workbook with one sheet per table."""

from __future__ import annotations

import datetime as dt
import io
import re

from openpyxl import load_workbook

from tests.contract_rows import page
from views.cabinet.chart import chart, nice_top, periods


def test_the_dashboard_shows_cost_only_with_the_right(login):
    with_cost = page(login("client_head").get("/cabinet/statistics/"))
    without = page(login("client_user").get("/cabinet/statistics/"))
    assert 'id="month-dashboard"' in with_cost and 'id="month-dashboard"' in without
    for key in ("visits", "patients", "tests"):
        assert f'data-figure="{key}"' in with_cost and f'data-figure="{key}"' in without
    assert 'data-figure="cost"' in with_cost
    assert 'data-figure="cost"' not in without and "Стоимость" not in without.split(
        'id="month-dashboard"')[1].split("</form>")[0]


def test_the_chart_has_every_period_of_the_range_with_zeros(login):
    shown = page(login("client_head").get(
        "/cabinet/statistics/", query_string={"start": "01.01.2020", "end": "31.12.2020",
                                               "grouping": "month"}))
    bars = re.findall(r'class="uchet-bar" data-period="([^"]+)" data-value="(\d+)"', shown)
    assert [p for p, _v in bars] == [f"{m:02d}.2020" for m in range(1, 13)]
    assert {v for _p, v in bars} == {"0"}  # no visits in 2020: twelve zero bars
    ticks = re.findall(r'class="uchet-tick">(\d+)<', shown)
    assert ticks == ["0", "1", "2", "3", "4"]
    assert "01.2020" in shown and "12.2020" in shown  # the periods are labelled


def test_chart_geometry():
    assert periods(dt.date(2026, 11, 28), dt.date(2026, 12, 2), "day") == [
        dt.date(2026, 11, 28), dt.date(2026, 11, 29), dt.date(2026, 11, 30),
        dt.date(2026, 12, 1), dt.date(2026, 12, 2)]
    assert [nice_top(v) for v in (0, 5, 17, 99)] == [4, 8, 20, 200]

    class Row:
        def __init__(self, key, visits):
            self.key, self.visits = key, visits

    drawn = chart([Row(dt.date(2026, 12, 2), 6)], dt.date(2026, 12, 1), dt.date(2026, 12, 3),
                  "day")
    assert [b["value"] for b in drawn["bars"]] == [0, 6, 0]
    assert drawn["bars"][1]["height"] > 0 == drawn["bars"][0]["height"]
    assert [t["value"] for t in drawn["ticks"]] == [0, 2, 4, 6, 8]


def test_the_workbook_has_a_sheet_per_table(login):
    export = login("client_head").get("/cabinet/statistics/export",
                                      query_string={"grouping": "month"})
    book = load_workbook(io.BytesIO(export.data))
    assert book.sheetnames == ["По подразделениям", "По месяцам"]
    units, months = book.worksheets
    assert [c.value for c in units[1]][:4] == ["Подразделение / период", "Визиты", "Пациенты",
                                               "Тесты"]
    assert units["A1"].font.b and units.freeze_panes == "A2"
    assert months["A1"].value == "Период" and months.max_row >= 2
