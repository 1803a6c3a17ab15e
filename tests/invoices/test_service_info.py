"""«Информация об оказанных пациенту услугах»: its own right, the scope, and the
invoice and payment state of every line; links from the patient and voucher cards."""

from __future__ import annotations

from tests.invoices.rows import PATIENTS, inv_user, make_patient_invoice, owed_patient
from tests.voucher_rows import text


def test_the_page_needs_its_right_and_shows_the_invoice(session, login):
    person, rows = owed_patient(session)
    maker = inv_user(session, login, {**PATIENTS, "service_info.view": "yes"})
    pk = make_patient_invoice(maker, person, rows[:1])
    maker.post(f"/patientinvoiceview/confirm/{pk}")
    page = maker.get(f"/patient-services/{person.id}")
    assert page.status_code == 200
    body = text(page)
    assert "Выставлен счёт" in body and "Оказана" in body and "Подтверждён" in body
    assert f"/patientinvoiceview/show/{pk}" in page.get_data(as_text=True)
    without = inv_user(session, login, PATIENTS)
    assert without.get(f"/patient-services/{person.id}").status_code in (302, 403)


def test_another_branchs_patient_is_404(session, login):
    person, _ = owed_patient(session, "SPB-NEV")
    reader = inv_user(session, login, {"service_info.view": "yes"})
    assert reader.get(f"/patient-services/{person.id}").status_code == 404


def test_the_cards_link_to_invoicing_and_the_page(session, login):
    person, rows = owed_patient(session)
    both = inv_user(session, login, {**PATIENTS, "service_info.view": "yes",
                                     "patient.registry": "view"})
    card = both.get(f"/patientview/show/{person.id}").get_data(as_text=True)
    assert f"/patientinvoiceview/add?patient={person.id}" in card
    assert f"/patient-services/{person.id}" in card
    voucher_card = both.get(f"/voucherview/show/{rows[0].voucher_id}").get_data(as_text=True)
    assert f"/patientinvoiceview/add?patient={person.id}" in voucher_card
    neither = inv_user(session, login, {"patient.registry": "view"})
    card = neither.get(f"/patientview/show/{person.id}").get_data(as_text=True)
    assert "/patientinvoiceview/add" not in card and "/patient-services/" not in card
