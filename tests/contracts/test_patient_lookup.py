"""Choosing the patient of an attachment by search: the form never lists every
patient; the lookup finds patients by the start of their name (any case, «ё» as
«е») and birth date, only within the user's scope and only for users who may
attach and read the patient registry; a crafted id outside the scope or unknown
is refused and nothing saved."""

from __future__ import annotations

import datetime as dt

import pytest

from models.patients import Attachment
from tests.contract_rows import (
    YEAR_END,
    YEAR_START,
    contract,
    count,
    flashes,
    n,
    patient,
    programme,
    user_with,
)

ATTACHER = {"contract.contracts": "view", "contract.attach_patients": "yes",
            "contract.insurance_terms": "view", "patient.registry": "view"}


@pytest.fixture
def people(session):
    tag = f"Щёголев{n()}"
    own = patient(session, last_name=tag, first_name="Пётр", birth_date=dt.date(1970, 3, 1))
    twin = patient(session, last_name=tag, first_name="Павел", birth_date=dt.date(1985, 6, 2))
    foreign = patient(session, "SPB-NEV", last_name=tag, first_name="Олег")
    plan = programme(session, contract(session))
    session.commit()
    return {"tag": tag, "own": own, "twin": twin, "foreign": foreign, "programme": plan}


def _found(client, q) -> list[int]:
    response = client.get("/attachmentview/lookup/patient", query_string={"q": q})
    assert response.status_code == 200
    return [row["id"] for row in response.get_json()["results"]]


def test_lookup_finds_by_name_start_and_birth_date_in_scope_only(session, login, people):
    client = user_with(session, login, ATTACHER)
    tag, own, twin = people["tag"], people["own"], people["twin"]
    # Lower case and «е» for «ё» find the same people; the other branch's namesake is absent.
    assert sorted(_found(client, tag.lower().replace("ё", "е"))) == sorted([own.id, twin.id])
    assert _found(client, f"{tag} Пет") == [own.id]
    assert _found(client, f"{tag} 02.06.1985") == [twin.id]
    assert people["foreign"].id not in _found(client, tag)
    assert _found(client, "Щ") == []  # fewer than two characters
    assert _found(client, "%%") == []  # wildcards are text, not patterns


def test_lookup_needs_the_right_to_attach(session, login, people):
    reader = user_with(session, login, {"contract.contracts": "view"})
    response = reader.get("/attachmentview/lookup/patient", query_string={"q": people["tag"]})
    assert response.status_code in (302, 403)
    attacher = user_with(session, login, ATTACHER)
    assert attacher.get("/attachmentview/lookup/nothing?q=ab").status_code == 404


def test_lookup_needs_the_patient_registry(session, login, people):
    # Patients' names are read under «Картотека пациентов», whatever screen asks.
    blind = user_with(session, login, {**ATTACHER, "patient.registry": "none"})
    response = blind.get("/attachmentview/lookup/patient", query_string={"q": people["tag"]})
    assert response.status_code == 403
    assert str(people["own"].id) not in response.get_data(as_text=True)


def test_the_form_lists_no_patients(session, login, people):
    client = user_with(session, login, ATTACHER)
    form = client.get("/attachmentview/add").get_data(as_text=True)
    select = form.split('name="patient"')[1].split("</select>")[0]
    assert "uchet-remote" in form and "<option" not in select
    # From the patient's card the patient is already chosen.
    card = client.get(f"/attachmentview/add?_flt_0_patient={people['own'].id}")
    assert card.status_code == 200


@pytest.mark.parametrize("who", ["foreign", "unknown"])
def test_a_crafted_patient_id_is_refused(session, login, people, who):
    client = user_with(session, login, ATTACHER)
    patient_id = people["foreign"].id if who == "foreign" else 99_999_999
    before = count(session, Attachment)
    page = client.post("/attachmentview/add", follow_redirects=True, data={
        "patient": str(patient_id), "programme": str(people["programme"].id),
        "valid_from": YEAR_START.isoformat(), "valid_to": YEAR_END.isoformat()})
    assert count(session, Attachment) == before
    text = page.get_data(as_text=True)
    if who == "foreign":
        # For him another branch's patient does not exist (issue 20, item 1).
        assert "Связанная запись в поле «Пациент» не найдена" in flashes(page, "danger")
        assert people["tag"] not in text
    else:
        assert "Выберите запись из списка" in text


def test_a_chosen_patient_is_attached(session, login, people):
    client = user_with(session, login, ATTACHER)
    own = people["own"]
    client.post("/attachmentview/add", data={
        "patient": str(own.id), "programme": str(people["programme"].id),
        "valid_from": YEAR_START.isoformat(), "valid_to": YEAR_END.isoformat()})
    assert count(session, Attachment, Attachment.patient_id == own.id) == 1
    edit = client.get(f"/attachmentview/list/?_flt_0_programme={people['programme'].id}")
    assert own.last_name in edit.get_data(as_text=True)
