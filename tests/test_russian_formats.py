"""Russian formats on every screen (issue 13, defects 2 and 4), over HTTP as the
demo users: dates typed and shown as ДД.ММ.ГГГГ, a Russian message for a date that
is not one with the typed text kept, a named empty choice instead of «__None», the
API still speaking ISO."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from models.contracts import Contract
from tests.contract_rows import count, insurer, n
from tests.support import unit

DATE_INPUT = re.compile(r'<div class="input-group date uchet-date" data-kind="date">.*?'
                        r'<input ([^>]*)>', re.S)


@pytest.fixture
def admin(login):
    return login("admin")


def _contract_form(session, **dates) -> dict:
    company = insurer(session)
    session.commit()
    form = {"number": f"ТСТ-Д{n():04d}", "kind": "dms", "payment_scheme": "postpaid",
            "branch": str(unit(session, "MSK-TVR").id), "insurer": str(company.id),
            "signed_on": "01.12.2026", "valid_from": "01.12.2026", "valid_to": "31.12.2027"}
    form.update(dates)
    return form


def _stored(session, number):
    session.expire_all()
    return session.query(Contract).filter(Contract.number == number).one_or_none()


def test_a_date_typed_the_russian_way_is_saved_as_that_day(session, admin):
    form = _contract_form(session)
    admin.post("/contractview/add", data=form, follow_redirects=True)
    stored = _stored(session, form["number"])
    assert stored is not None
    assert (stored.signed_on, stored.valid_from, stored.valid_to) == (
        dt.date(2026, 12, 1), dt.date(2026, 12, 1), dt.date(2027, 12, 31))


def test_the_edit_form_shows_the_stored_date_the_russian_way(session, admin):
    form = _contract_form(session)
    admin.post("/contractview/add", data=form, follow_redirects=True)
    stored = _stored(session, form["number"])
    page = admin.get(f"/contractview/edit/{stored.id}").get_data(as_text=True)
    inputs = DATE_INPUT.findall(page)
    assert any('value="01.12.2026"' in i and 'name="signed_on"' in i for i in inputs), inputs
    assert "2026-12-01" not in page


def test_a_typed_date_that_is_not_a_date_is_refused_at_its_field_and_kept(session, admin):
    form = _contract_form(session, valid_from="32.13.2026")
    page = admin.post("/contractview/add", data=form).get_data(as_text=True)
    assert count(session, Contract, Contract.number == form["number"]) == 0
    assert "Введите дату в виде ДД.ММ.ГГГГ, например 01.12.2026" in page
    assert 'value="32.13.2026"' in page
    assert "Not a valid date" not in page


def test_the_list_shows_dates_the_russian_way(session, admin):
    form = _contract_form(session)
    admin.post("/contractview/add", data=form, follow_redirects=True)
    page = admin.get(f"/contractview/list/?_flt_0_number={form['number']}").get_data(as_text=True)
    assert "01.12.2026" in page and "2026-12-01" not in page


def test_a_list_filter_on_a_date_reads_the_russian_way(session, admin):
    form = _contract_form(session, signed_on="02.01.2026")
    admin.post("/contractview/add", data=form, follow_redirects=True)
    # 02.01.2026 is the 2nd of January; a month-first reading would look for February.
    page = admin.get("/contractview/list/?_flt_0_signed_on=02.01.2026").get_data(as_text=True)
    assert form["number"] in page


def test_the_api_keeps_iso_dates(session, admin):
    form = _contract_form(session)
    admin.post("/contractview/add", data=form, follow_redirects=True)
    stored = _stored(session, form["number"])
    body = admin.get(f"/api/v1/contracts/{stored.id}").get_json()
    assert body["result"]["signed_on"] == "2026-12-01"


def test_an_empty_choice_is_named_not_shown_as_none(admin):
    page = admin.get("/contractview/add").get_data(as_text=True)
    blanks = re.findall(r'<option[^>]*value="__None"[^>]*>([^<]*)</option>', page)
    assert blanks, "the contract form has optional links"
    assert set(blanks) == {"— не выбрано —"}


def test_the_xlsx_export_names_its_sheet_and_shows_dates_the_russian_way(session, admin):
    import io

    from openpyxl import load_workbook

    form = _contract_form(session)
    admin.post("/contractview/add", data=form, follow_redirects=True)
    query = f"?_flt_0_number={form['number']}"
    book = load_workbook(io.BytesIO(admin.get(f"/contractview/export/xlsx{query}").data))
    assert book.sheetnames == ["Договоры"]
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    signed = sheet.cell(row=2, column=header.index("Дата договора") + 1)
    assert signed.value == dt.datetime(2026, 12, 1)
    assert signed.number_format == "DD.MM.YYYY"
    text = admin.get(f"/contractview/export/csv{query}").data.decode("utf-8-sig")
    assert "01.12.2026" in text and "2026-12-01" not in text


def test_the_statistics_xlsx_sheet_is_named(login):
    import io

    from openpyxl import load_workbook

    head = login("client_head")
    answer = head.get("/cabinet/statistics/export?start=01.01.2026&end=31.01.2026")
    assert answer.status_code == 200
    assert load_workbook(io.BytesIO(answer.data)).sheetnames == ["По подразделениям", "По дням"]


def test_hand_written_forms_take_russian_dates(login):
    head = login("client_head")
    page = head.get("/cabinet/statistics/?start=01.02.2026&end=28.02.2026").get_data(as_text=True)
    assert "Период: 01.02.2026 — 28.02.2026." in page
    assert 'type="date"' not in page  # the browser's own picker follows its language
    assert 'value="01.02.2026"' in page


def test_the_calendar_is_russian_and_served_by_the_app(admin, client):
    page = admin.get("/contractview/add").get_data(as_text=True)
    locale = re.search(r'<script src="(/static/uchet/bootstrap-datepicker\.ru\.js)"', page)
    assert locale, "the Russian calendar is loaded from the app's own static files"
    assert "Январь" in client.get(locale.group(1)).get_data(as_text=True)
    # FAB's own set-up turns .appbuilder_date into a yyyy-mm-dd calendar.
    assert "appbuilder_date" not in page and "appbuilder_datetime" not in page


def test_no_form_shows_an_unnamed_empty_choice(app, admin):
    from flask_appbuilder import ModelView

    checked = 0
    for view in app.appbuilder.baseviews:
        if not isinstance(view, ModelView) or "can_add" not in view.base_permissions:
            continue
        answer = admin.get(f"{view.route_base}/add")
        if answer.status_code != 200:
            continue
        page = answer.get_data(as_text=True)
        blanks = re.findall(r'<option[^>]*value="__None"[^>]*>([^<]*)</option>', page)
        assert all(text == "— не выбрано —" for text in blanks), (view.route_base, blanks)
        assert 'type="date"' not in page and "appbuilder_date" not in page, view.route_base
        checked += len(blanks) > 0
    assert checked >= 15  # add forms with an optional link (23 with the edit forms)
