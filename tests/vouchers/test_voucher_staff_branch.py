"""A voucher's doctor and nurse work in the voucher's branch, and its doctor is a
working doctor — what the form's choices hold — also when the save comes from a
tampered form or the REST API (services.vouchers.rules.check_staff). A refused
save leaves the database as it was; the screen keeps what was typed and names the
rule at the field. Old vouchers whose staff since moved stay editable."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from models.vouchers import Voucher
from tests.contract_rows import message, patient
from tests.support import unit
from tests.voucher_rows import (
    VOUCHERS,
    diagnosis,
    employee,
    iso,
    snapshot,
    stored,
    text,
    voucher,
    voucher_user,
)

OTHERS = {"voucher.others_edit_delete": "yes"}


def elsewhere(person) -> str:
    return (f"Сотрудник «{person}» работает в другом филиале: в талоне указывается "
            "персонал филиала талона")


@pytest.fixture
def rows(session):
    """A MSK-TVR patient, doctor, nurse and voucher; a SPB-NEV doctor and nurse."""
    person = patient(session)
    made = SimpleNamespace(
        person=person, doctor=employee(session), nurse=employee(session, doctor=False),
        foreign_doctor=employee(session, "SPB-NEV"),
        foreign_nurse=employee(session, "SPB-NEV", doctor=False),
        diagnosis=diagnosis(session), branch=unit(session, "MSK-TVR"))
    made.item = voucher(session, person)
    session.commit()
    return made


def as_user(session, login):
    """A registrar who sees every branch: the other branch's staff are in his choices,
    so only the new rule stands between a tampered id and the database."""
    client, _ = voucher_user(session, login, OTHERS, scope="all")
    return client


def edit_form(client, item, rows, **values) -> dict:
    page = text(client.get(f"/voucherview/edit/{item.id}"))
    version = re.search(r'<input[^>]*name="version"[^>]*value="(\d+)"', page).group(1)
    return {"service_date": iso(item.service_date), "kind": "regular",
            "branch": str(rows.branch.id), "doctor": str(item.doctor_id),
            "patient": str(rows.person.id), "version": version, **values}


def field_errors(page: str, field: str) -> str:
    """Return the form's row holding `field` (its errors are shown in it)."""
    start = page.index(f'name="{field}"')
    return page[page.rfind("<tr", 0, start):page.index("</tr>", start)]


def test_a_tampered_edit_form_with_another_branchs_doctor_is_refused_at_the_field(
        session, login, rows):
    client = as_user(session, login)
    before = snapshot(session, rows.item.id)
    form = edit_form(client, rows.item, rows, doctor=str(rows.foreign_doctor.id),
                     note="Набранная заметка")
    page = client.post(f"/voucherview/edit/{rows.item.id}", data=form)
    assert page.status_code == 200
    body = text(page)
    assert elsewhere(rows.foreign_doctor) in field_errors(body, "doctor")
    assert "Набранная заметка" in body  # what was typed is kept
    assert snapshot(session, rows.item.id) == before


def test_the_api_refuses_another_branchs_doctor_or_nurse(session, login, rows):
    client = as_user(session, login)
    before = snapshot(session, rows.item.id)
    for field, person in (("doctor", rows.foreign_doctor), ("nurse", rows.foreign_nurse)):
        refused = client.put(f"{VOUCHERS}{rows.item.id}", json={field: person.id})
        assert refused.status_code == 400, refused.get_json()
        assert message(refused) == elsewhere(person)
    assert snapshot(session, rows.item.id) == before
    count = session.query(Voucher).filter_by(patient_id=rows.person.id).count()
    new = client.post(VOUCHERS, json={
        "service_date": iso(rows.item.service_date), "kind": "regular",
        "branch": rows.branch.id, "patient": rows.person.id,
        "doctor": rows.foreign_doctor.id, "diagnosis": rows.diagnosis.id})
    assert new.status_code == 400 and message(new) == elsewhere(rows.foreign_doctor)
    assert session.query(Voucher).filter_by(patient_id=rows.person.id).count() == count


def test_a_nurse_is_not_a_doctor(session, login, rows):
    client = as_user(session, login)
    refused = client.put(f"{VOUCHERS}{rows.item.id}", json={"doctor": rows.nurse.id})
    assert refused.status_code == 400
    assert message(refused) == f"«{rows.nurse}» не врач или не работает"


def test_the_branchs_own_doctor_and_nurse_save(session, login, rows):
    client = as_user(session, login)
    form = edit_form(client, rows.item, rows, doctor=str(rows.doctor.id),
                     nurse=str(rows.nurse.id))
    saved = client.post(f"/voucherview/edit/{rows.item.id}", data=form)
    assert saved.status_code == 302, text(saved)[:2000]
    assert (stored(session, Voucher, rows.item.id).doctor_id,
            stored(session, Voucher, rows.item.id).nurse_id) == (rows.doctor.id, rows.nurse.id)


def test_moving_the_voucher_to_another_branch_refuses_its_staff(session, login, rows):
    client = as_user(session, login)
    before = snapshot(session, rows.item.id)
    moved = client.put(f"{VOUCHERS}{rows.item.id}",
                       json={"branch": unit(session, "SPB-NEV").id})
    assert moved.status_code == 400
    assert message(moved) == elsewhere(rows.item.doctor)
    assert snapshot(session, rows.item.id) == before
    # With the new branch's doctor it moves.
    both = client.put(f"{VOUCHERS}{rows.item.id}", json={
        "branch": unit(session, "SPB-NEV").id, "doctor": rows.foreign_doctor.id})
    assert both.status_code == 200, both.get_json()


def test_a_voucher_whose_doctor_since_moved_stays_editable(session, login, rows):
    rows.item.doctor.branch = unit(session, "SPB-NEV")
    rows.item.doctor.active = False
    session.commit()
    client = as_user(session, login)
    edited = client.put(f"{VOUCHERS}{rows.item.id}", json={"note": "Правка"})
    assert edited.status_code == 200, edited.get_json()
    assert stored(session, Voucher, rows.item.id).note == "Правка"

