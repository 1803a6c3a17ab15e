"""Invoices to patients over HTTP: making one from owed lines, confirming with a
number, cancelling, the access level and each yes/no right allowing and refusing
on the screen and the API, the scope (404), the days allowed and the closed period."""

from __future__ import annotations

from decimal import Decimal

from models.invoices import Invoice
from tests.contract_rows import flashes
from tests.invoices.rows import (
    OWED,
    PATIENTS,
    inv_user,
    invoice,
    make_patient_invoice,
    owed_patient,
    states,
)
from tests.voucher_rows import ago, close_period, text

API = "/api/v1/patientinvoice/"


def test_a_draft_takes_the_owed_lines_and_totals_them_exactly(session, login):
    person, rows = owed_patient(session)
    client = inv_user(session, login, PATIENTS)
    pk = make_patient_invoice(client, person)
    stored = invoice(session, pk)
    assert (stored.kind, stored.state, stored.total) == ("patient", "draft", Decimal("1750.55"))
    assert stored.number_seq is None
    assert states(session, rows) == ["invoiced", "invoiced"]
    card = client.get(f"/patientinvoiceview/show/{pk}")
    assert card.status_code == 200
    assert "1 750,55" in text(card) and "Подтвердить" in text(card)


def test_ticked_lines_only(session, login):
    person, rows = owed_patient(session)
    client = inv_user(session, login, PATIENTS)
    pk = make_patient_invoice(client, person, rows[:1])
    assert invoice(session, pk).total == Decimal("1500.00")
    assert states(session, rows) == ["invoiced", "rendered"]


def test_view_level_cannot_make_an_invoice(session, login):
    person, rows = owed_patient(session)
    client = inv_user(session, login, {"invoice.patients": "edit"})
    screen = client.post(f"/patientinvoiceview/add?patient={person.id}", data={})
    assert screen.status_code in (302, 403)
    assert session.query(Invoice).filter(Invoice.patient_id == person.id).count() == 0
    api = client.post(API + "make", json={"patient": person.id})
    assert api.status_code == 403
    assert states(session, rows) == ["rendered", "rendered"]


def test_no_access_hides_the_list_and_the_api(session, login):
    client = inv_user(session, login, {"invoice.patients": "none"})
    assert client.get("/patientinvoiceview/list/").status_code in (302, 403)
    assert client.get(API).status_code in (401, 403)


def test_confirm_gives_consecutive_numbers_and_needs_the_right(session, login):
    person, _rows = owed_patient(session)
    other, _ = owed_patient(session)
    maker = inv_user(session, login, PATIENTS)
    first, second = make_patient_invoice(maker, person), make_patient_invoice(maker, other)
    refused = inv_user(session, login, {"invoice.patients": "delete"})
    answer = refused.post(f"/patientinvoiceview/confirm/{first}")
    assert answer.status_code == 302 and invoice(session, first).state == "draft"
    assert refused.post(API + f"{first}/confirm", json={}).status_code == 403
    assert "Подтвердить</button>" not in text(refused.get(f"/patientinvoiceview/show/{first}"))
    assert maker.post(f"/patientinvoiceview/confirm/{first}").status_code == 302
    api = maker.post(API + f"{second}/confirm", json={})
    assert api.status_code == 200, api.get_json()
    a, b = invoice(session, first), invoice(session, second)
    assert (a.state, b.state) == ("confirmed", "confirmed")
    assert b.number_seq == a.number_seq + 1 and a.number_year == a.invoice_date.year
    assert api.get_json()["result"]["number"] == b.number
    # Confirming twice is told, not applied twice.
    again = maker.post(API + f"{second}/confirm", json={})
    assert again.status_code == 409 and invoice(session, second).number_seq == b.number_seq


def test_a_stale_version_is_a_conflict(session, login):
    person, _ = owed_patient(session)
    client = inv_user(session, login, PATIENTS)
    pk = make_patient_invoice(client, person)
    answer = client.post(API + f"{pk}/confirm", json={"version": 99})
    assert answer.status_code == 409 and "другим пользователем" in answer.get_json()["message"]
    assert invoice(session, pk).state == "draft"


def test_cancelling_a_confirmed_invoice_needs_its_right_and_a_reason(session, login):
    person, rows = owed_patient(session)
    maker = inv_user(session, login, PATIENTS)
    pk = make_patient_invoice(maker, person)
    maker.post(f"/patientinvoiceview/confirm/{pk}")
    answer = maker.post(API + f"{pk}/cancel", json={"reason": "ошибка"})
    assert answer.status_code == 403 and invoice(session, pk).state == "confirmed"
    assert maker.post(f"/patientinvoiceview/cancel/{pk}", data={"reason": "ошибка"}
                      ).status_code == 302
    assert invoice(session, pk).state == "confirmed"
    allowed = inv_user(session, login, {**PATIENTS, "invoice.patients.cancel_confirmed": "yes"})
    no_reason = allowed.post(API + f"{pk}/cancel", json={})
    assert no_reason.status_code == 400 and "основание" in no_reason.get_json()["message"]
    done = allowed.post(f"/patientinvoiceview/cancel/{pk}", data={"reason": "ошибка кассира"})
    assert done.status_code == 302
    stored = invoice(session, pk)
    assert (stored.state, stored.reason) == ("cancelled", "ошибка кассира")
    assert states(session, rows) == ["rendered", "rendered"]


def test_a_draft_is_cancelled_with_edit_and_frees_its_lines(session, login):
    person, rows = owed_patient(session)
    client = inv_user(session, login, PATIENTS)
    pk = make_patient_invoice(client, person)
    assert client.post(API + f"{pk}/cancel", json={}).status_code == 200
    assert invoice(session, pk).state == "cancelled"
    assert states(session, rows) == ["rendered", "rendered"]
    # The freed lines are invoiced again.
    assert invoice(session, make_patient_invoice(client, person)).total == Decimal("1750.55")


def test_a_line_is_never_in_two_invoices(session, login):
    person, rows = owed_patient(session)
    client = inv_user(session, login, PATIENTS)
    make_patient_invoice(client, person)
    again = client.post(API + "make", json={"patient": person.id,
                                            "lines": [r.id for r in rows]})
    assert again.status_code == 400
    assert session.query(Invoice).filter(Invoice.patient_id == person.id).count() == 1


def test_another_branch_answers_404(session, login):
    person, _ = owed_patient(session, "SPB-NEV")
    owner = inv_user(session, login, PATIENTS, home="SPB-NEV")
    pk = make_patient_invoice(owner, person)
    stranger = inv_user(session, login, PATIENTS)
    assert stranger.get(f"/patientinvoiceview/show/{pk}").status_code == 404
    assert stranger.get(f"/patientinvoiceview/pdf/{pk}").status_code == 404
    assert stranger.post(f"/patientinvoiceview/confirm/{pk}").status_code == 404
    assert stranger.get(API + str(pk)).status_code == 404
    assert stranger.post(API + f"{pk}/confirm", json={}).status_code == 404
    assert stranger.get(f"/patientinvoiceview/add?patient={person.id}").status_code == 404
    assert invoice(session, pk).state == "draft"


def test_days_allowed_bound_back_dating(session, login):
    person, _ = owed_patient(session)
    client = inv_user(session, login, {**PATIENTS, "invoice.patients.edit_days": "3"})
    old = ago(10).strftime("%d.%m.%Y")
    answer = client.post(f"/patientinvoiceview/add?patient={person.id}",
                         data={"invoice_date": old, "line": [str(r.id) for r in OWED[person.id]]})
    assert answer.status_code == 400 and "3 дн." in text(answer)
    unlimited = inv_user(session, login, {**PATIENTS, "invoice.patients.edit_days": "0"})
    done = unlimited.post(f"/patientinvoiceview/add?patient={person.id}",
                          data={"invoice_date": old, "line": [str(r.id) for r in OWED[person.id]]})
    assert done.status_code == 302


def test_days_allowed_bound_confirming_an_old_draft(session, login):
    person, _ = owed_patient(session)
    maker = inv_user(session, login, PATIENTS)
    pk = maker.post(API + "make", json={"patient": person.id,
                                        "invoice_date": ago(5).isoformat()}).get_json()
    pk = pk["result"]["id"]
    late = inv_user(session, login, {**PATIENTS, "invoice.patients.edit_days": "2"})
    answer = late.post(API + f"{pk}/confirm", json={})
    assert answer.status_code == 400 and invoice(session, pk).state == "draft"


def test_the_closed_period_holds_for_invoices(session, login):
    person, rows = owed_patient(session)
    close_period(session, ago(3))
    session.commit()
    client = inv_user(session, login, PATIENTS)
    answer = client.post(f"/patientinvoiceview/add?patient={person.id}",
                         data={"invoice_date": ago(4).strftime("%d.%m.%Y"),
                               "line": [str(r.id) for r in rows]})
    assert answer.status_code == 400 and "закрыт" in text(answer)
    assert states(session, rows) == ["rendered", "rendered"]
    opener = inv_user(session, login, {**PATIENTS, "params.closed_period_edit": "yes"})
    done = opener.post(f"/patientinvoiceview/add?patient={person.id}",
                       data={"invoice_date": ago(4).strftime("%d.%m.%Y"),
                               "line": [str(r.id) for r in rows]})
    assert done.status_code == 302
    pk = int(done.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    refused = client.post(API + f"{pk}/confirm", json={})
    assert refused.status_code == 400 and "закрыт" in refused.get_json()["message"]


def test_the_bulk_confirm_action_needs_the_right(session, login):
    person, _ = owed_patient(session)
    maker = inv_user(session, login, PATIENTS)
    pk = make_patient_invoice(maker, person)
    refused = inv_user(session, login, {"invoice.patients": "delete"})
    no = refused.post("/patientinvoiceview/action_post",
                      data={"action": "confirm_selected", "rowid": [str(pk)]})
    assert no.status_code == 302
    assert "Нет права" in " ".join(flashes(refused.get("/patientinvoiceview/list/")))
    assert invoice(session, pk).state == "draft"
    answer = maker.post("/patientinvoiceview/action_post",
                        data={"action": "confirm_selected", "rowid": [str(pk)]})
    assert answer.status_code == 302 and invoice(session, pk).state == "confirmed"
    assert flashes(maker.get("/patientinvoiceview/list/"), "success") == [
        "Подтверждено счетов: 1"]


def test_pdf_prints_the_sum_in_words(session, login):
    from io import BytesIO

    from pypdf import PdfReader

    person, _ = owed_patient(session)
    client = inv_user(session, login, PATIENTS)
    pk = make_patient_invoice(client, person)
    client.post(f"/patientinvoiceview/confirm/{pk}")
    answer = client.get(f"/patientinvoiceview/pdf/{pk}")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    words = " ".join(p.extract_text() for p in PdfReader(BytesIO(answer.data)).pages)
    assert "Одна тысяча семьсот пятьдесят рублей 55 копеек" in words
    assert invoice(session, pk).number in words


def test_editing_a_confirmed_patients_invoice_needs_its_right(session, login):
    person, _ = owed_patient(session)
    maker = inv_user(session, login, PATIENTS)
    pk = make_patient_invoice(maker, person)
    maker.post(f"/patientinvoiceview/confirm/{pk}")
    assert maker.post(API + f"{pk}/edit", json={"note": "x"}).status_code == 403
    maker.post(f"/patientinvoiceview/edit/{pk}", data={"note": "x"})
    assert invoice(session, pk).note is None
    editor = inv_user(session, login, {**PATIENTS, "invoice.patients.edit_confirmed": "yes"})
    assert editor.post(API + f"{pk}/edit", json={"note": "для бухгалтерии"}).status_code == 200
    assert invoice(session, pk).note == "для бухгалтерии"
