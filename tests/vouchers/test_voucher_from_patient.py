"""«Создание талонов для выбранного пациента из меню Пациент», over HTTP: the patient
card offers «Создать талон» only with that right and the right to add vouchers; the
form it opens names the patient, unless the patient is outside the user's scope."""

from __future__ import annotations

from tests.contract_rows import patient, user_with

CREATOR = {"voucher.other_vouchers": "create", "patient.registry": "view",
           "voucher.create_from_patient_menu": "yes"}
BUTTON = "Создать талон"


def test_the_card_offers_a_voucher_only_with_the_right(session, login):
    person = patient(session, last_name="Талонов")
    session.commit()
    card = f"/patientview/show/{person.id}"
    without = user_with(session, login, {**CREATOR, "voucher.create_from_patient_menu": "no"})
    assert BUTTON not in without.get(card).text
    reader = user_with(session, login, {**CREATOR, "voucher.other_vouchers": "view"})
    assert BUTTON not in reader.get(card).text
    creator = user_with(session, login, CREATOR)
    page = creator.get(card).text
    assert BUTTON in page and f"/voucherview/add?patient={person.id}" in page


def test_the_form_names_the_patient_in_scope_only(session, login):
    own, foreign = patient(session, last_name="Свойский"), patient(session, "SPB-NEV",
                                                                    last_name="Чужанин")
    session.commit()
    creator = user_with(session, login, CREATOR)
    form = creator.get(f"/voucherview/add?patient={own.id}").text
    assert f'<option value="{own.id}" selected>Свойский' in form
    other = creator.get(f"/voucherview/add?patient={foreign.id}").text
    assert "Чужанин" not in other
    assert creator.get("/voucherview/add?patient=99999999999999").status_code == 200
