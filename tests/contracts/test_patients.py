"""The patient registry (issue 5), over HTTP as given users: a registrar finds a
patient by last name and birth date, namesakes born the same day are flagged as
possible duplicates (whatever the case, «ё» or «е») until one of them is renamed,
nobody is born in the future; «Картотека пациентов» at view lists without adding,
at create adds; patients of other branches do not exist for a branch user."""

from __future__ import annotations

import datetime as dt

import pytest

from models.patients import Patient
from tests.contract_rows import count, flashes, message, n, patient, user_with
from tests.support import unit

API = "/api/v1/patients/"
BORN = dt.date(1975, 7, 7)
DUPLICATE = "Пациентов с теми же ФИО и датой рождения: 1. Проверьте, не дубль ли это"


def _form(session, **values):
    form = {"last_name": f"Новиков{n()}", "first_name": "Олег", "middle_name": "Ильич",
            "birth_date": BORN.isoformat(), "sex": "m",
            "home_branch": str(unit(session, "MSK-TVR").id)}
    form.update(values)
    return form


def _body(session, **values):
    body = {"last_name": f"Новиков{n()}", "first_name": "Олег", "birth_date": BORN.isoformat(),
            "sex": "m", "home_branch": unit(session, "MSK-TVR").id}
    body.update(values)
    return body


def _flags(session, *rows) -> list[bool]:
    session.expire_all()
    return [session.get(Patient, row.id).possible_duplicate for row in rows]


@pytest.fixture
def registrar(session, login):
    return user_with(session, login, {"patient.registry": "delete"})


# --------------------------------------------------------------------------- search


def test_a_patient_is_found_by_last_name_and_birth_date(session, registrar):
    tag = f"Искомова{n()}"
    wanted = patient(session, last_name=tag, first_name="Анастасия", birth_date=BORN)
    patient(session, last_name=tag, first_name="Валентина", birth_date=dt.date(1990, 1, 1))
    patient(session, last_name=f"Другая{tag}", first_name="Галина", birth_date=BORN)
    session.commit()
    listing = registrar.get("/patientview/list/", query_string={
        "_flt_0_last_name": tag, "_flt_0_birth_date": BORN.isoformat()})
    text = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert "Анастасия" in text
    assert "Валентина" not in text and "Галина" not in text
    by_name = registrar.get("/patientview/list/", query_string={"_flt_0_last_name": tag})
    assert "Анастасия" in by_name.get_data(as_text=True)
    assert "Валентина" in by_name.get_data(as_text=True)
    api = registrar.get(API, query_string={"q": (
        f"(filters:!((col:last_name,opr:sw,value:{tag}),"
        f"(col:birth_date,opr:eq,value:'{BORN.isoformat()}')))")})
    assert api.status_code == 200, api.get_json()
    assert api.get_json()["ids"] == [wanted.id]


# --------------------------------------------------------------------------- duplicates


def test_a_namesake_born_the_same_day_flags_both_and_warns(session, registrar):
    first = registrar.post("/patientview/add", follow_redirects=True, data=_form(
        session, last_name="Семёнов", first_name="Пётр", middle_name="Алексеевич"))
    assert flashes(first, "warning") == []
    second = registrar.post("/patientview/add", follow_redirects=True, data=_form(
        session, last_name="СЕМЕНОВ", first_name="петр", middle_name=" Алексеевич "))
    assert any(text.startswith(DUPLICATE) for text in flashes(second, "warning"))
    rows = session.query(Patient).filter(Patient.birth_date == BORN,
                                         Patient.last_name.in_(["Семёнов", "СЕМЕНОВ"])).all()
    assert len(rows) == 2
    assert _flags(session, *rows) == [True, True]
    # Another birth date is another person.
    other = registrar.post(API, json=_body(session, last_name="Семёнов", first_name="Пётр",
                                           middle_name="Алексеевич", birth_date="1975-07-08"))
    assert other.status_code == 201
    assert session.get(Patient, other.get_json()["id"]).possible_duplicate is False


def test_renaming_one_namesake_clears_both_flags(session, registrar):
    one = patient(session, last_name="Ёлкина", first_name="Мария", middle_name=None,
                  birth_date=BORN)
    two = patient(session, last_name="елкина", first_name="МАРИЯ", middle_name=None,
                  birth_date=BORN)
    session.commit()
    assert _flags(session, one, two) == [True, True]
    form = _form(session, last_name="Ёлкина-Петрова", first_name="Мария", middle_name="",
                 birth_date=BORN.isoformat(), sex="m")
    page = registrar.post(f"/patientview/edit/{two.id}", data=form, follow_redirects=True)
    assert flashes(page, "danger") == []
    assert _flags(session, one, two) == [False, False]
    assert session.get(Patient, two.id).last_name == "Ёлкина-Петрова"
    back = registrar.put(f"{API}{two.id}", json={"last_name": "Елкина"})
    assert back.status_code == 200, back.get_json()
    assert _flags(session, one, two) == [True, True]


def test_deleting_one_namesake_clears_the_others_flag(session, registrar):
    one = patient(session, last_name="Удалов", first_name="Ян", middle_name=None)
    two = patient(session, last_name="Удалов", first_name="Ян", middle_name=None)
    session.commit()
    assert _flags(session, one, two) == [True, True]
    assert registrar.delete(f"{API}{two.id}").status_code == 200
    assert _flags(session, one) == [False]


def test_a_namesake_in_another_branch_is_reported_without_naming_him(session, registrar):
    patient(session, "SPB-NEV", last_name="Дальний", first_name="Роман", middle_name=None,
            birth_date=BORN)
    session.commit()
    page = registrar.post("/patientview/add", follow_redirects=True, data=_form(
        session, last_name="Дальний", first_name="Роман", middle_name=""))
    warnings = flashes(page, "warning")
    assert any("есть в другом филиале" in text for text in warnings)
    assert not any(text.startswith("Пациентов с теми же ФИО") for text in warnings)


def test_a_birth_date_in_the_future_is_refused(session, registrar):
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    form = _form(session, birth_date=tomorrow)
    page = registrar.post("/patientview/add", data=form, follow_redirects=True)
    assert "Дата рождения не может быть в будущем" in flashes(page, "danger")
    body = _body(session, birth_date=tomorrow)
    response = registrar.post(API, json=body)
    assert response.status_code == 400
    assert message(response) == "Дата рождения не может быть в будущем"
    assert count(session, Patient, Patient.last_name.in_(
        [form["last_name"], body["last_name"]])) == 0
    born_today = registrar.post(API, json=_body(session, birth_date=dt.date.today().isoformat()))
    assert born_today.status_code == 201, born_today.get_json()
    stored = patient(session)
    session.commit()
    moved = registrar.put(f"{API}{stored.id}", json={"birth_date": tomorrow})
    assert moved.status_code == 400
    session.expire_all()
    assert session.get(Patient, stored.id).birth_date == stored.birth_date


# --------------------------------------------------------------------------- rights and scope


def test_viewing_the_registry_is_not_adding_to_it(session, login):
    own = patient(session)
    session.commit()
    client = user_with(session, login, {"patient.registry": "view"})
    assert client.get("/patientview/list/").status_code == 200
    assert client.get(f"/patientview/show/{own.id}").status_code == 200
    assert client.get(f"{API}{own.id}").status_code == 200
    assert client.get("/patientview/add").status_code == 403
    form = _form(session)
    assert client.post("/patientview/add", data=form).status_code == 403
    assert client.post(API, json=_body(session, last_name=form["last_name"])).status_code == 403
    assert client.put(f"{API}{own.id}", json={"first_name": "Карл"}).status_code == 403
    assert count(session, Patient, Patient.last_name == form["last_name"]) == 0
    session.expire_all()
    assert session.get(Patient, own.id).first_name == "Иван"


def test_creating_in_the_registry_adds_patients(session, login):
    client = user_with(session, login, {"patient.registry": "create"})
    form = _form(session)
    page = client.post("/patientview/add", data=form, follow_redirects=True)
    assert flashes(page, "danger") == []
    body = _body(session)
    assert client.post(API, json=body).status_code == 201
    assert count(session, Patient, Patient.last_name.in_(
        [form["last_name"], body["last_name"]])) == 2


def test_patients_of_another_branch_do_not_exist_for_a_branch_user(session, registrar):
    own = patient(session, "MSK-TVR", last_name="Здешний", first_name="Здеслав")
    foreign = patient(session, "SPB-NEV", last_name="Здешний", first_name="Питирим")
    session.commit()
    listing = registrar.get("/patientview/list/", query_string={"_flt_0_last_name": "Здешний"})
    assert "Здеслав" in listing.get_data(as_text=True)
    assert "Питирим" not in listing.get_data(as_text=True)
    assert registrar.get(f"/patientview/show/{own.id}").status_code == 200
    assert registrar.get(f"/patientview/show/{foreign.id}").status_code == 404
    assert registrar.get(f"{API}{foreign.id}").status_code == 404
    assert registrar.put(f"{API}{foreign.id}", json={"first_name": "Карл"}).status_code == 404
    assert registrar.get(f"/patientview/edit/{foreign.id}").status_code == 404
    moved = registrar.post(API, json=_body(session, home_branch=unit(session, "SPB-NEV").id))
    assert moved.status_code == 400
    assert message(moved) == "Запись выходит за пределы вашей области данных"
