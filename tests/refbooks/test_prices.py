"""Prices obey «Просмотр цен на услуги» and «Изменение цен на услуги»: none hides
them (screens, API, export, the price of a service set), own branch shows and
edits only the categories of the user's branch, all branches everything."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Currency, Price, PriceCategory, PriceType, Service, ServiceSet
from tests.support import make_role, make_user, unit

YEAR = dt.date(2026, 1, 1)
SET_PRICE = ("4321", "4\u00a0321")  # stored / as a Russian page shows it


def _shows_set_price(text: str) -> bool:
    return any(form in text for form in SET_PRICE)


@pytest.fixture
def catalogue_rows(session):
    """A service priced in a Moscow category (branch MSK-TVR) and a Petersburg one."""
    price_type = PriceType(code="T-PAID", name="Платные (тест)", funding="paid")
    rub = session.scalar(select(Currency).where(Currency.code == "RUB")) or Currency(
        code="RUB", name="Российский рубль", symbol="₽")
    moscow = PriceCategory(code="T-MSK", name="Тест Москва", price_type=price_type,
                           branches=[unit(session, "MSK-TVR")])
    piter = PriceCategory(code="T-SPB", name="Тест Петербург", price_type=price_type,
                          branches=[unit(session, "SPB-NEV")])
    service = Service(code="T-0001", name="Тестовый анализ крови", insurance="none")
    session.add_all([price_type, rub, moscow, piter, service])
    session.flush()
    own = Price(service=service, category=moscow, valid_from=YEAR, amount=Decimal("777.11"),
                currency=rub)
    foreign = Price(service=service, category=piter, valid_from=YEAR, amount=Decimal("888.22"),
                    currency=rub)
    box = ServiceSet(code="T-SET", name="Тестовый набор", price=Decimal("4321.00"))
    session.add_all([own, foreign, box])
    session.commit()
    return {"own": own, "foreign": foreign, "moscow": moscow, "piter": piter,
            "service": service, "rub": rub, "set": box}


@pytest.fixture
def as_prices(session, login):
    def _make(view, edit="none"):
        role = make_role(session, f"Цены {view}/{edit}", {
            "price.prices.view": view, "price.prices.edit": edit,
            "price.service_sets": "view", "scope.data": "own_subtree"})
        make_user(session, f"prices_{view}_{edit}", roles=[role],
                  home_unit=unit(session, "MSK-TVR-LAB"))
        return login(f"prices_{view}_{edit}")

    return _make


def _ids(client):
    return set(client.get("/api/v1/prices/?q=(page_size:100)").get_json()["ids"])


def test_no_price_access_hides_prices_everywhere(as_prices, catalogue_rows):
    client = as_prices("none")
    assert client.get("/priceview/list/").status_code == 403
    assert client.get("/api/v1/prices/").status_code == 403
    assert client.get("/priceview/export/csv").status_code == 403
    box = catalogue_rows["set"]
    page = client.get(f"/servicesetview/show/{box.id}").get_data(as_text=True)
    assert not _shows_set_price(page)
    assert not _shows_set_price(client.get("/servicesetview/export/csv").get_data(as_text=True))
    api = client.get(f"/api/v1/servicesets/{box.id}").get_json()["result"]
    assert "price" not in api


def test_own_branch_sees_only_its_categories(as_prices, catalogue_rows):
    client = as_prices("own")
    own, foreign = catalogue_rows["own"], catalogue_rows["foreign"]
    listing = client.get("/priceview/list/").get_data(as_text=True)
    assert "777,11" in listing and "888,22" not in listing
    assert client.get(f"/priceview/show/{own.id}").status_code == 200
    assert client.get(f"/priceview/show/{foreign.id}").status_code == 404
    ids = _ids(client)
    assert own.id in ids and foreign.id not in ids
    assert client.get(f"/api/v1/prices/{foreign.id}").status_code == 404
    export = client.get("/priceview/export/csv").get_data(as_text=True)
    assert "777" in export and "888" not in export
    assert _shows_set_price(client.get(
        f"/servicesetview/show/{catalogue_rows['set'].id}").get_data(as_text=True))


def test_all_branches_see_every_category(as_prices, catalogue_rows):
    ids = _ids(as_prices("all"))
    assert {catalogue_rows["own"].id, catalogue_rows["foreign"].id} <= ids


def test_viewing_is_not_editing(session, as_prices, catalogue_rows):
    client = as_prices("all", "none")
    own = catalogue_rows["own"]
    assert client.get(f"/priceview/edit/{own.id}").status_code == 403
    response = client.put(f"/api/v1/prices/{own.id}", json={"amount": "1.00"})
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Price, own.id).amount == Decimal("777.11")


def test_own_branch_edits_only_its_categories(session, as_prices, catalogue_rows):
    client = as_prices("all", "own")
    own, foreign = catalogue_rows["own"], catalogue_rows["foreign"]
    assert client.put(f"/api/v1/prices/{own.id}", json={"amount": "800.00"}).status_code == 200
    refused = client.put(f"/api/v1/prices/{foreign.id}", json={"amount": "1.00"})
    assert refused.status_code == 400
    assert "Изменение цен" in refused.get_json()["message"]
    moved = client.put(f"/api/v1/prices/{own.id}",
                       json={"category": catalogue_rows["piter"].id})
    assert moved.status_code == 400
    session.expire_all()
    assert session.get(Price, own.id).amount == Decimal("800.00")
    assert session.get(Price, own.id).category_id == catalogue_rows["moscow"].id
    assert session.get(Price, foreign.id).amount == Decimal("888.22")
    form = client.get("/priceview/add").get_data(as_text=True)
    assert "Тест Москва" in form and "Тест Петербург" not in form


def test_own_branch_deletes_only_its_categories_on_every_channel(session, as_prices,
                                                                 catalogue_rows):
    client = as_prices("all", "own")
    foreign = catalogue_rows["foreign"]
    api = client.delete(f"/api/v1/prices/{foreign.id}")
    assert api.status_code == 400
    assert "Изменение цен" in api.get_json()["message"]
    client.post(f"/priceview/delete/{foreign.id}")
    client.post("/priceview/action_post", data={"action": "muldelete", "rowid": [foreign.id]})
    session.expire_all()
    assert session.get(Price, foreign.id) is not None
    own = catalogue_rows["own"]
    assert client.delete(f"/api/v1/prices/{own.id}").status_code == 200


def test_overlapping_periods_are_refused(session, as_prices, catalogue_rows):
    client = as_prices("all", "all")
    payload = {"service": catalogue_rows["service"].id, "category": catalogue_rows["moscow"].id,
               "valid_from": "2026-06-01", "amount": "900.00",
               "currency": catalogue_rows["rub"].id}
    response = client.post("/api/v1/prices/", json=payload)
    assert response.status_code == 400
    assert "пересекается" in response.get_json()["message"]
    earlier = {**payload, "valid_from": "2025-01-01", "valid_to": "2025-12-31"}
    assert client.post("/api/v1/prices/", json=earlier).status_code == 201
    bad = {**payload, "valid_from": "2024-01-01", "valid_to": "2023-12-31"}
    assert "раньше" in client.post("/api/v1/prices/", json=bad).get_json()["message"]
    zero = {**payload, "valid_from": "2020-01-01", "valid_to": "2020-12-31", "amount": "0"}
    assert "больше нуля" in client.post("/api/v1/prices/", json=zero).get_json()["message"]


def test_hidden_price_cannot_be_filtered_or_changed(session, as_prices, catalogue_rows):
    client = as_prices("none")
    assert client.get("/servicesetview/list/?_flt_0_price=4321").status_code == 400
    box = catalogue_rows["set"]
    role_client = client
    assert role_client.get("/api/v1/servicesets/?q=(order_column:price)").status_code == 400
    session.expire_all()
    assert session.get(ServiceSet, box.id).price == Decimal("4321.00")
