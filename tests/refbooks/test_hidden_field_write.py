"""A hidden field on write has a defined outcome, never a 500 (issue 20, item 7): a
user who may create service sets but not see prices cannot create one (the price
may not be empty and only a user who sees it may set it): 400 in the API and the
message on the screen, in Russian, naming the field; nothing is stored. Changing
an existing set keeps its price."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from models.pricelist import ServiceSet
from tests.contract_rows import flashes, message
from tests.support import make_role, make_user, unit

REFUSAL = ("Поле «Цена набора» скрыто вашими правами: такую запись создаёт пользователь, "
           "которому это поле видно")


@pytest.fixture
def price_blind(session, login):
    role = make_role(session, "Наборы без цен", {
        "price.prices.view": "none", "price.service_sets": "delete",
        "scope.data": "own_subtree"})
    make_user(session, "sets_no_prices", roles=[role], home_unit=unit(session, "MSK-TVR-LAB"))
    return login("sets_no_prices")


def _stored(session, code):
    session.expire_all()
    return session.scalar(select(ServiceSet).where(ServiceSet.code == code))


@pytest.mark.parametrize("sent", [{"price": "100.00"}, {}])
def test_the_api_refuses_a_new_set_with_a_hidden_price(session, price_blind, sent):
    """Sent or not (he cannot know the field is there), the answer is the same."""
    response = price_blind.post("/api/v1/servicesets/", json={
        "code": "T-HID-1", "name": "Набор без цены", "active": True, **sent})
    assert (response.status_code, message(response)) == (400, REFUSAL)
    assert _stored(session, "T-HID-1") is None


def test_a_user_who_sees_the_price_must_give_it(session, login):
    role = make_role(session, "Наборы с ценами", {
        "price.prices.view": "all", "price.service_sets": "delete",
        "scope.data": "own_subtree"})
    make_user(session, "sets_with_prices", roles=[role], home_unit=unit(session, "MSK-TVR-LAB"))
    client = login("sets_with_prices")
    missing = client.post("/api/v1/servicesets/", json={"code": "T-HID-4", "name": "Набор"})
    assert (missing.status_code, message(missing)) == (400, "Заполните поле «Цена набора»")
    made = client.post("/api/v1/servicesets/", json={"code": "T-HID-4", "name": "Набор",
                                                     "price": "100.00"})
    assert made.status_code == 201, made.get_json()
    assert _stored(session, "T-HID-4").price == Decimal("100.00")


def test_the_screen_refuses_a_new_set_with_a_hidden_price(session, price_blind):
    page = price_blind.post("/servicesetview/add", data={
        "code": "T-HID-2", "name": "Набор без цены", "price": "100.00", "active": "y"})
    assert page.status_code == 200
    assert REFUSAL in flashes(page, "danger")
    assert _stored(session, "T-HID-2") is None


def test_changing_a_set_keeps_its_hidden_price(session, price_blind):
    box = ServiceSet(code="T-HID-3", name="Набор", price=Decimal("4321.00"))
    session.add(box)
    session.commit()
    response = price_blind.put(f"/api/v1/servicesets/{box.id}",
                               json={"name": "Набор переименован", "price": "1.00"})
    assert response.status_code == 200, response.get_json()
    stored = _stored(session, "T-HID-3")
    assert (stored.name, stored.price) == ("Набор переименован", Decimal("4321.00"))
