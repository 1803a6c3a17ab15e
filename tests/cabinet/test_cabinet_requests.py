"""Вызов курьера and Вопросы клиентов end to end, over HTTP as the demo cabinet users:
the client's office asks, the personal manager processes, each sees only the
offices his scope holds; refusals are Russian, keep the typing and write nothing."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from sqlalchemy import func, select

from models.cabinet import CourierCall, Question
from tests.contract_rows import flashes
from tests.support import unit

TOMORROW = dt.date.today() + dt.timedelta(days=1)


def call_form(session, office="CL1-B2", **values):
    return {"unit": str(unit(session, office).id), "kind": "courier",
            "visit_date": TOMORROW.isoformat(), "time_from": "09:00", "time_to": "12:00",
            "address": "Москва, ул. Профсоюзная, 1", "samples": "12",
            "phone": "+7 495 000-00-00", **values}


def calls(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(CourierCall))


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_client_calls_a_courier_and_the_manager_processes_it(session, login):
    client = login("client_user")
    sent = client.post("/cabinet/courier/", data=call_form(session))
    assert sent.status_code == 302
    call = session.scalars(select(CourierCall).order_by(CourierCall.id.desc())).first()
    assert (call.state, call.samples, call.unit.code) == ("new", 12, "CL1-B2")
    assert "Москва, ул. Профсоюзная, 1" in page(client.get("/cabinet/courier/"))

    refused = client.post(f"/cabinet/courier/{call.id}/state", data={"state": "accepted"})
    assert refused.status_code == 400
    assert "Заявку в состоянии «Новая» нельзя перевести в «Принята»" in flashes(refused)

    manager = login("manager")
    assert "Москва, ул. Профсоюзная, 1" in page(manager.get("/cabinet/courier/"))
    accepted = manager.post(f"/cabinet/courier/{call.id}/state",
                            data={"state": "accepted", "staff_note": "Курьер Иван, до 11:00"})
    assert accepted.status_code == 302
    assert "Курьер Иван, до 11:00" in page(client.get("/cabinet/courier/"))
    assert manager.post(f"/cabinet/courier/{call.id}/state",
                        data={"state": "done"}).status_code == 302
    late = client.post(f"/cabinet/courier/{call.id}/state", data={"state": "cancelled"})
    assert "Заявку в состоянии «Выполнена» нельзя перевести в «Отменена»" in flashes(late)
    session.expire_all()
    assert session.get(CourierCall, call.id).state == "done"


def test_a_client_cancels_his_new_call(session, login):
    client = login("client_user")
    client.post("/cabinet/courier/", data=call_form(session))
    call = session.scalars(select(CourierCall).order_by(CourierCall.id.desc())).first()
    assert client.post(f"/cabinet/courier/{call.id}/state",
                       data={"state": "cancelled"}).status_code == 302
    session.expire_all()
    assert session.get(CourierCall, call.id).state == "cancelled"


@pytest.mark.parametrize(("change", "said"), [
    ({"visit_date": (TOMORROW - dt.timedelta(days=3)).isoformat()},
     "Это время уже прошло: выберите время в будущем"),
    ({"time_from": "12:00", "time_to": "09:00"}, "Время «до» должно быть позже времени «с»"),
    ({"address": "  "}, "Заполните поле «Адрес»"),
    ({"samples": "0"}, "Укажите, сколько проб забрать"),
    ({"samples": "много"}, "Число проб — целое, от 0 до 10 000"),
    ({"visit_date": "31.12"}, "Укажите дату и время: с и до"),
    ({"kind": "taxi"}, "Выберите, кого вызвать"),
    ({"time_from": "09:00+03:00"}, "Укажите дату и время: с и до"),
    ({"visit_date": (TOMORROW + dt.timedelta(days=400)).isoformat()},
     "Курьера вызывают не дальше чем на 60 дн. вперёд"),
    ({"unit": "²"}, "Выберите подразделение из списка"),
])
def test_a_bad_call_is_refused_and_keeps_the_typing(session, login, change, said):
    client = login("client_user")
    before = calls(session)
    refused = client.post("/cabinet/courier/", data=call_form(session, note="Домофон 12",
                                                             **change))
    assert refused.status_code == 400
    assert said in flashes(refused, "danger")
    assert "Домофон 12" in page(refused)
    assert calls(session) == before


def test_an_office_outside_the_scope_cannot_be_named(session, login):
    client = login("client_user")
    before = calls(session)
    refused = client.post("/cabinet/courier/", data=call_form(session, office="CL1-B1"))
    assert "Выберите подразделение из списка" in flashes(refused, "danger")
    assert calls(session) == before


def test_each_user_sees_the_calls_of_his_offices_only(session, login):
    login("client_user").post("/cabinet/courier/",
                              data=call_form(session, address="Адрес филиала Б2"))
    call = session.scalars(select(CourierCall).order_by(CourierCall.id.desc())).first()
    assert "Адрес филиала Б2" in page(login("client_head").get("/cabinet/courier/"))
    branch = login("client_branch")  # CL1-B1: a sibling office
    assert "Адрес филиала Б2" not in page(branch.get("/cabinet/courier/"))
    assert branch.post(f"/cabinet/courier/{call.id}/state",
                       data={"state": "cancelled"}).status_code == 404
    # A client's office the manager does not serve.
    session.add(CourierCall(unit=unit(session, "CL3-B1"), kind="courier", visit_date=TOMORROW,
                            time_from=dt.time(9), time_to=dt.time(10), address="Казань",
                            samples=1, state="new"))
    session.commit()
    other = session.scalars(select(CourierCall).order_by(CourierCall.id.desc())).first()
    manager = login("manager")
    assert "Казань" not in page(manager.get("/cabinet/courier/"))
    assert manager.post(f"/cabinet/courier/{other.id}/state",
                        data={"state": "accepted"}).status_code == 404


def test_back_office_users_do_not_reach_the_cabinet_sections(login):
    registrar = login("registrar")
    for url in ("/cabinet/courier/", "/cabinet/questions/"):
        assert registrar.get(url).status_code in (302, 403), url


def test_a_question_is_answered_and_the_author_is_told(session, login):
    client = login("client_head")
    office = unit(session, "CL1-HQ").id
    asked = client.post("/cabinet/questions/", data={
        "unit": str(office), "addressee": "doctor", "subject": "Подготовка к анализу",
        "text": "Нужно ли сдавать кровь натощак для ТТГ?"})
    assert asked.status_code == 302
    question = session.scalars(select(Question).order_by(Question.id.desc())).first()
    assert "Лаборатория ответила" not in page(client.get("/"))

    refused = client.post(f"/cabinet/questions/{question.id}/answer", data={"answer": "Да"})
    assert "Отвечает на вопросы персональный менеджер или его ассистент" in flashes(refused)
    assistant = login("assistant")
    assert "Нужно ли сдавать кровь натощак" in page(assistant.get("/cabinet/questions/"))
    empty = assistant.post(f"/cabinet/questions/{question.id}/answer", data={"answer": " "})
    assert "Заполните поле «Ответ»" in flashes(empty, "danger")
    assert assistant.post(f"/cabinet/questions/{question.id}/answer",
                          data={"answer": "Да, натощак, утром."}).status_code == 302

    home = page(client.get("/"))
    assert "Лаборатория ответила на ваши вопросы: 1" in home
    opened = page(client.get("/cabinet/questions/"))
    assert "Да, натощак, утром." in opened and "Новый ответ" in opened
    assert "Лаборатория ответила" not in page(client.get("/"))
    assert "Новый ответ" not in page(client.get("/cabinet/questions/"))


def test_questions_stay_within_the_offices_of_the_scope(session, login):
    head = login("client_head")
    head.post("/cabinet/questions/", data={
        "unit": str(unit(session, "CL1-HQ").id), "addressee": "manager",
        "subject": "Счёт за ноябрь", "text": "Когда придёт счёт?"})
    question = session.scalars(select(Question).order_by(Question.id.desc())).first()
    branch = login("client_branch")
    assert "Счёт за ноябрь" not in page(branch.get("/cabinet/questions/"))
    empty = branch.post("/cabinet/questions/", data={
        "unit": str(unit(session, "CL1-B1").id), "addressee": "manager", "subject": "",
        "text": "Текст"})
    assert "Заполните поле «Тема»" in flashes(empty, "danger")
    assert "Текст" in page(empty)
    session.add(Question(unit=unit(session, "CL3-HQ"), addressee="manager",
                         subject="Чужой клиент", text="?"))
    session.commit()
    other = session.scalars(select(Question).order_by(Question.id.desc())).first()
    manager = login("manager")
    assert "Счёт за ноябрь" in page(manager.get("/cabinet/questions/"))
    assert "Чужой клиент" not in page(manager.get("/cabinet/questions/"))
    assert manager.post(f"/cabinet/questions/{other.id}/answer",
                        data={"answer": "Нет"}).status_code == 404
    assert question.id != other.id
