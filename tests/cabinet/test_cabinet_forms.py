"""Направительные бланки over HTTP: each form downloads as a PDF that reads in
Russian; filled online, the PDF carries what was typed; a mistake is refused in
Russian with the typing kept; users without the right do not reach the forms."""

from __future__ import annotations

import datetime as dt
import html
import io

import pytest
from pypdf import PdfReader

from services.cabinet.forms import FORMS
from tests.contract_rows import flashes
from tests.support import unit


def pdf_text(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def filled(session, **values):
    body = {"unit": str(unit(session, "CL1-B2").id), "patient": "Смирнова Анна Петровна",
            "birth_date": "1985-03-14", "sex": "f",
            "sample_date": dt.date.today().isoformat(), "diagnosis": "E03.9",
            "doctor": "Егорова Н.", "test": ["TSH", "FT4"], "cycle_day": "5"}
    body.update(values)
    return body


@pytest.mark.parametrize("code", sorted(FORMS))
def test_each_blank_form_is_a_russian_pdf(login, code):
    text = pdf_text(login("client_user").get(f"/cabinet/forms/{code}.pdf"))
    assert str(FORMS[code].title) in text
    assert "Пациент (ФИО)" in text and "Подпись врача" in text
    for _code, name in FORMS[code].tests:
        assert str(name) in text


def test_a_form_filled_online_prints_what_was_typed(session, login):
    client = login("client_user")
    listed = html.unescape(client.get("/cabinet/forms/").get_data(as_text=True))
    assert all(str(form.title) in listed for form in FORMS.values())
    text = pdf_text(client.post("/cabinet/forms/hormones/fill", data=filled(session)))
    assert "Смирнова Анна Петровна" in text and "14.03.1985" in text
    assert "«Добромед» в Митино" in text and "ТТГ" in text and "Т4 свободный" in text
    assert "Пролактин" not in text  # not ticked
    assert "День цикла: 5" in text


@pytest.mark.parametrize(("change", "said"), [
    ({"patient": "  "}, "Укажите фамилию, имя и отчество пациента"),
    ({"birth_date": "31.02.1985"}, "Укажите дату в поле «Дата рождения»"),
    ({"birth_date": "2999-01-01"}, "Дата рождения — не позже сегодняшнего дня"),
    ({"sex": ""}, "Укажите пол пациента"),
    ({"test": []}, "Отметьте хотя бы одно исследование"),
    ({"test": ["HACK"]}, "Отметьте хотя бы одно исследование"),
    ({"cycle_day": "99"}, "День цикла — число от 1 до 60"),
    ({"unit": "1"}, "Выберите подразделение из списка"),
])
def test_a_mistake_is_refused_and_the_typing_kept(session, login, change, said):
    client = login("client_user")
    refused = client.post("/cabinet/forms/hormones/fill",
                          data=filled(session, note="Принимает L-тироксин", **change))
    assert refused.status_code == 400
    assert said in flashes(refused, "danger")
    assert "Принимает L-тироксин" in html.unescape(refused.get_data(as_text=True))


def test_unknown_forms_and_users_without_the_right(login):
    client = login("client_user")
    assert client.get("/cabinet/forms/nosuch.pdf").status_code == 404
    assert client.get("/cabinet/forms/nosuch/fill").status_code == 404
    registrar = login("registrar")
    assert registrar.get("/cabinet/forms/general.pdf").status_code in (302, 403)
