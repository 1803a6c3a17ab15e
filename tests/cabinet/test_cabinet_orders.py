"""Заказ расходных материалов and Программа семинаров end to end, over HTTP as the
demo cabinet users: an office orders and the manager ships; a user registers while
seats are left; nobody sees another client's orders; refusals change nothing."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from sqlalchemy import func, select

from models.cabinet_orders import Consumable, ConsumableOrder, Seminar, SeminarRegistration
from tests.contract_rows import flashes
from tests.support import unit


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def item(session, code) -> Consumable:
    return session.scalar(select(Consumable).where(Consumable.code == code))


def order_form(session, office="CL1-B1", **quantities):
    body = {"unit": str(unit(session, office).id), "address": "Москва, Профсоюзная, 1"}
    body.update({f"qty_{item(session, code).id}": qty for code, qty in quantities.items()})
    return body


def orders(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ConsumableOrder))


def test_an_office_orders_consumables_and_the_manager_delivers(session, login):
    client = login("client_branch")
    sent = client.post("/cabinet/consumables/", data=order_form(
        session, **{"VAC-EDTA-4": "200", "NEEDLE-21G": "300", "HOLDER": ""}))
    assert sent.status_code == 302
    order = session.scalars(select(ConsumableOrder).order_by(ConsumableOrder.id.desc())).first()
    assert sorted((line.consumable.code, line.quantity) for line in order.lines) == [
        ("NEEDLE-21G", 300), ("VAC-EDTA-4", 200)]
    manager = login("manager")
    assert "Москва, Профсоюзная, 1" in page(manager.get("/cabinet/consumables/"))
    for state in ("accepted", "shipped", "delivered"):
        moved = manager.post(f"/cabinet/consumables/{order.id}/state",
                             data={"state": state, "staff_note": f"Этап {state}"})
        assert moved.status_code == 302, state
    session.expire_all()
    assert session.get(ConsumableOrder, order.id).state == "delivered"
    late = client.post(f"/cabinet/consumables/{order.id}/state", data={"state": "cancelled"})
    assert "Заказ в состоянии «Доставлен» нельзя перевести в «Отменён»" in flashes(late)


@pytest.mark.parametrize("quantity", ["101", "2,5", "-3"])
def test_one_bad_line_refuses_the_whole_order(session, login, quantity):
    client = login("client_branch")
    before = orders(session)
    refused = client.post("/cabinet/consumables/", data=order_form(
        session, **{"VAC-EDTA-4": "10", "BAG-BIO": quantity}))
    assert refused.status_code == 400
    assert ("«Пакет для транспортировки биоматериала»: количество — целое число от 1 до 100"
            in flashes(refused, "danger"))
    assert "Москва, Профсоюзная, 1" in page(refused)  # the typing stays
    assert orders(session) == before


def test_an_empty_order_is_refused(session, login):
    client = login("client_branch")
    before = orders(session)
    refused = client.post("/cabinet/consumables/", data=order_form(session))
    assert refused.status_code == 400
    assert "Укажите количество хотя бы одного материала" in flashes(refused, "danger")
    assert orders(session) == before


def test_a_withdrawn_item_and_a_foreign_office_are_refused(session, login):
    withdrawn = item(session, "FORM-REF")
    withdrawn.active = False
    session.commit()
    client = login("client_branch")
    before = orders(session)
    refused = client.post("/cabinet/consumables/", data=order_form(session, **{"FORM-REF": "1"}))
    assert "Такого материала нет в каталоге" in flashes(refused, "danger")
    foreign = client.post("/cabinet/consumables/",
                          data=order_form(session, office="CL1-B2", **{"HOLDER": "5"}))
    assert "Выберите подразделение из списка" in flashes(foreign, "danger")
    assert orders(session) == before
    assert withdrawn.name not in page(client.get("/cabinet/consumables/"))


def test_orders_stay_within_the_scope(session, login):
    login("client_user").post("/cabinet/consumables/", data=order_form(
        session, office="CL1-B2", **{"URINE-CONT": "40"}))
    order = session.scalars(select(ConsumableOrder).order_by(ConsumableOrder.id.desc())).first()
    branch = login("client_branch")
    assert branch.post(f"/cabinet/consumables/{order.id}/state",
                       data={"state": "cancelled"}).status_code == 404
    assert "Контейнер для мочи" in page(login("client_head").get("/cabinet/consumables/"))


def seminar(session, days=5, seats=None, active=True) -> Seminar:
    row = Seminar(title=f"Тестовый семинар {days}-{seats}", place="Зал",
                  starts_on=dt.datetime.now() + dt.timedelta(days=days), seats=seats,
                  active=active)
    session.add(row)
    session.commit()
    return row


def enrol(client, session, row, office="CL1-B2"):
    return client.post(f"/cabinet/seminars/{row.id}/register",
                       data={"unit": str(unit(session, office).id)})


def test_registration_keeps_to_the_seats(session, login):
    row = seminar(session, seats=1)
    first = login("client_user")
    assert enrol(first, session, row).status_code == 302
    again = enrol(first, session, row)
    assert "Вы уже записаны на этот семинар" in flashes(again, "danger")
    full = enrol(login("client_branch"), session, row, office="CL1-B1")
    assert "Свободных мест нет" in flashes(full, "danger")
    assert "Вы записаны" in page(first.get("/cabinet/seminars/"))
    assert "Егорова" in page(login("manager").get("/cabinet/seminars/"))  # who registered
    assert first.post(f"/cabinet/seminars/{row.id}/cancel").status_code == 302
    assert enrol(login("client_branch"), session, row, office="CL1-B1").status_code == 302
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(SeminarRegistration).where(
        SeminarRegistration.seminar_id == row.id)) == 1


def test_closed_and_past_seminars_take_no_registration(session, login):
    closed, past = seminar(session, active=False), seminar(session, days=-1)
    client = login("client_user")
    for row in (closed, past):
        refused = enrol(client, session, row)
        assert "Запись на этот семинар закрыта" in flashes(refused, "danger")
    assert session.scalar(select(func.count()).select_from(SeminarRegistration).where(
        SeminarRegistration.seminar_id.in_([closed.id, past.id]))) == 0
    assert client.post("/cabinet/seminars/999999/register", data={}).status_code == 404


def test_the_catalogues_are_kept_by_the_labs_managers(login):
    assert login("manager").get("/seminarview/list/").status_code == 200
    assert login("manager").get("/consumableview/list/").status_code == 200
    for user in ("client_head", "registrar"):
        assert login(user).get("/consumableview/list/").status_code in (302, 403), user


def test_catalogue_limits_are_checked_in_russian(login):
    manager = login("manager")
    seats = manager.post("/api/v1/seminars/", json={
        "title": "Семинар без мест", "starts_on": "2030-01-10 10:00:00", "place": "Зал",
        "seats": 0, "active": True})
    assert seats.status_code == 400
    assert seats.get_json()["message"] == "Мест — не меньше одного (пусто — без ограничения)"
    limit = manager.post("/api/v1/consumables/", json={
        "code": "T-ZERO", "name": "Нулевой", "measure": "шт.", "max_quantity": 0,
        "active": True})
    assert limit.status_code == 400
    assert limit.get_json()["message"] == "«Не больше за заказ» — целое число от 1"
    assert manager.post("/api/v1/seminars/", json={
        "title": "Семинар", "starts_on": "2030-01-10 10:00:00", "place": "Зал",
        "seats": None, "active": True}).status_code == 201
