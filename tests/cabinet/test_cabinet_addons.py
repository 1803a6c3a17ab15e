"""Дозаказ тестов over HTTP as the demo cabinet users: an office adds tests from its
visit's branch price list to a recent visit it sent; the manager accepts and
carries it out; old visits, other offices' visits and unlisted tests are refused;
the price shows only with «Просмотр информации о стоимости»."""

from __future__ import annotations

import datetime as dt
import html

from sqlalchemy import func, select

from models.cabinet_orders import AddonOrder
from models.vouchers import Voucher
from services.cabinet.orders import ADDON_DAYS, addon_services
from services.contracts.rules import money
from tests.contract_rows import flashes
from tests.support import unit


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True)).replace("\xa0", " ")


def visit(session, office, *, old=False) -> Voucher:
    """A visit the office sent: within the days samples are kept, or older."""
    since = dt.date.today() - dt.timedelta(days=ADDON_DAYS)
    condition = Voucher.service_date < since if old else Voucher.service_date >= since
    found = session.scalars(select(Voucher).where(
        Voucher.referring_unit_id == unit(session, office).id, condition)
        .order_by(Voucher.id)).first()
    assert found is not None, f"the demo has no {'old' if old else 'recent'} visit of {office}"
    return found


def orders(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AddonOrder))


def test_an_office_orders_tests_on_its_visit_and_the_lab_carries_it_out(session, login):
    mine = visit(session, "CL1-B2")
    (first, first_price), (second, _price) = addon_services(session, mine)[:2]
    client = login("client_user")
    chosen = page(client.get("/cabinet/addons/", query_string={"visit": mine.id}))
    assert first.name in chosen and money(first_price) not in chosen  # no cost for him
    sent = client.post("/cabinet/addons/", data={"visit": mine.id,
                                                 "service": [first.id, second.id]})
    assert sent.status_code == 302
    order = session.scalars(select(AddonOrder).order_by(AddonOrder.id.desc())).first()
    assert (order.voucher_id, order.unit.code, order.state) == (mine.id, "CL1-B2", "new")
    assert sorted(line.service_id for line in order.lines) == sorted([first.id, second.id])
    assert [line.price for line in order.lines if line.service_id == first.id] == [first_price]
    head = page(login("client_head").get("/cabinet/addons/"))
    assert first.name in head and money(first_price) in head  # the head sees the cost
    manager = login("manager")
    for state in ("accepted", "done"):
        assert manager.post(f"/cabinet/addons/{order.id}/state",
                            data={"state": state, "staff_note": "Выполнено"}).status_code == 302
    session.expire_all()
    assert session.get(AddonOrder, order.id).state == "done"


def test_refusals_keep_the_choice_and_write_nothing(session, login):
    mine = visit(session, "CL1-B2")
    (first, _p), = addon_services(session, mine)[:1]
    client = login("client_user")
    before = orders(session)
    none = client.post("/cabinet/addons/", data={"visit": mine.id, "note": "Срочно"})
    assert none.status_code == 400
    assert "Выберите хотя бы один тест" in flashes(none, "danger")
    assert "Срочно" in page(none) and first.name in page(none)
    old = client.post("/cabinet/addons/", data={"visit": visit(session, "CL1-B2", old=True).id,
                                                "service": [first.id]})
    assert "Пробы хранятся 7 дн." in " ".join(flashes(old, "danger"))
    foreign = client.post("/cabinet/addons/", data={"visit": visit(session, "CL1-B1").id,
                                                    "service": [first.id]})
    assert foreign.status_code == 404  # another office's visit: a row outside the scope
    odd = client.post("/cabinet/addons/", data={"visit": mine.id, "service": ["999999", "²"]})
    assert "Этого теста нет в прейскуранте для дозаказа" in flashes(odd, "danger")
    assert orders(session) == before


def test_the_visit_list_holds_the_scopes_recent_visits_only(session, login):
    client = login("client_branch")
    listed = page(client.get("/cabinet/addons/"))
    assert str(visit(session, "CL1-B1").patient) in listed
    other = visit(session, "CL1-B2")
    assert f'value="{other.id}"' not in listed
    shown = client.get("/cabinet/addons/", query_string={"visit": other.id})
    assert shown.status_code == 404 and "Визит не найден" in page(shown)


def test_only_the_lab_moves_an_order_forward(session, login):
    mine = visit(session, "CL1-B2")
    (first, _p), = addon_services(session, mine)[:1]
    client = login("client_user")
    client.post("/cabinet/addons/", data={"visit": mine.id, "service": [first.id]})
    order = session.scalars(select(AddonOrder).order_by(AddonOrder.id.desc())).first()
    refused = client.post(f"/cabinet/addons/{order.id}/state", data={"state": "done"})
    assert "Дозаказ в состоянии «Новый» нельзя перевести в «Выполнен»" in flashes(refused)
    assert login("client_branch").post(f"/cabinet/addons/{order.id}/state",
                                       data={"state": "cancelled"}).status_code == 404
    assert client.post(f"/cabinet/addons/{order.id}/state",
                       data={"state": "cancelled"}).status_code == 302
