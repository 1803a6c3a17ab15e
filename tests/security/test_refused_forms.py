"""A refused form or API write never shows a row outside the user's scope (issue 20,
item 1): a registrar who posts another branch's patient, voucher or attachment id
with one invalid field gets the form back without that row's name and birth date,
and the save reads as "not found" at the field, as an unknown id would."""

from __future__ import annotations

import datetime as dt

import pytest
from markupsafe import escape

from models.vouchers import Voucher
from tests.contract_rows import attachment, contract, count, message, n, patient, programme
from tests.support import unit
from tests.voucher_rows import voucher

NOT_FOUND = "Связанная запись в поле «%s» не найдена"


@pytest.fixture
def foreign(session):
    """Rows of another branch (SPB-NEV): a patient with a telling name, his voucher
    and his attachment."""
    tag = f"Ефимова{n()}"
    person = patient(session, "SPB-NEV", last_name=tag, first_name="Юлия",
                     middle_name="Петровна", birth_date=dt.date(1990, 7, 14))
    their_voucher = voucher(session, person, "SPB-NEV")
    their_attachment = attachment(session, person, programme(session, contract(session)))
    session.commit()
    return {"tag": tag, "patient": person, "voucher": their_voucher,
            "attachment": their_attachment}


def _posted(client, url: str, data: dict) -> str:
    page = client.post(url, data=data)
    assert page.status_code == 200
    return page.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/voucherview/add", "/attachmentview/add",
                                 "/referralview/add"])
def test_a_refused_form_does_not_show_a_foreign_patient(session, login, foreign, url):
    client = login("registrar")
    text = _posted(client, url, {"patient": str(foreign["patient"].id),
                                 "service_date": "не дата", "valid_from": "не дата",
                                 "issued_on": "не дата", "date": "не дата"})
    assert foreign["tag"] not in text
    assert "14.07.1990" not in text


@pytest.mark.parametrize("field", ["voucher", "attachment"])
def test_a_refused_line_form_does_not_show_a_foreign_voucher_or_attachment(
        session, login, foreign, field):
    client = login("registrar")
    text = _posted(client, "/voucherlineview/add", {field: str(foreign[field].id),
                                                    "quantity": "не число"})
    assert str(escape(str(foreign[field]))) not in text  # «№ 361 от 06.12.2026»
    assert foreign["tag"] not in text
    assert "14.07.1990" not in text


def test_a_foreign_patient_reads_as_not_found_at_the_field(session, login, foreign):
    client = login("registrar")
    before = count(session, Voucher)
    page = client.post("/voucherview/add", data={
        "patient": str(foreign["patient"].id), "service_date": dt.date.today().isoformat(),
        "kind": "regular", "confirm": "y"})
    text = page.get_data(as_text=True)
    assert NOT_FOUND % "Пациент" in text
    assert foreign["tag"] not in text
    assert count(session, Voucher) == before


def test_the_api_answers_not_found_for_a_foreign_patient(session, login, foreign):
    client = login("registrar")
    before = count(session, Voucher)
    response = client.post("/api/v1/vouchers/?confirm=1", json={
        "service_date": dt.date.today().isoformat(), "kind": "regular",
        "branch": unit(session, "MSK-TVR").id, "patient": foreign["patient"].id})
    assert response.status_code == 400
    assert message(response) == NOT_FOUND % "Пациент"
    assert foreign["tag"] not in response.get_data(as_text=True)
    assert count(session, Voucher) == before


def test_an_attachment_to_a_foreign_patient_reads_as_not_found(session, login, foreign):
    """An attachment is placed by its patient: his branch is not named either."""
    client = login("registrar")
    response = client.post("/api/v1/attachments/", json={
        "patient": foreign["patient"].id, "programme": foreign["attachment"].programme_id,
        "valid_from": "2026-01-01"})
    assert response.status_code == 400
    assert message(response) == NOT_FOUND % "Пациент"
    assert foreign["tag"] not in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/voucherview/add", "/attachmentview/add",
                                 "/referralview/add"])
def test_a_form_opened_for_a_foreign_patient_does_not_show_him(session, login, foreign, url):
    client = login("registrar")
    page = client.get(url, query_string={"_flt_0_patient": foreign["patient"].id})
    assert foreign["tag"] not in page.get_data(as_text=True)


def test_a_refused_edit_does_not_show_a_foreign_patient(session, login, foreign):
    own = voucher(session, patient(session))
    session.commit()
    client = login("registrar")
    text = _posted(client, f"/voucherview/edit/{own.id}", {
        "patient": str(foreign["patient"].id), "service_date": "не дата",
        "version": str(own.version)})
    assert foreign["tag"] not in text
    assert "14.07.1990" not in text
