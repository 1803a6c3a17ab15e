"""Field scope: a field hidden by the user's rights is absent from HTML and JSON,
refused as a filter or sort key, and kept unchanged when that user saves.

No screen has a price yet (they come with the price list), so the test declares
the unit's INN as a cost-like field governed by «Просмотр информации о
стоимости» on the live unit screen and API, exactly as a price view will.
"""

from __future__ import annotations

import pytest

from tests.support import make_role, make_user, unit

SECRET = "7712345678"


@pytest.fixture
def inn_is_a_cost(app, monkeypatch):
    for view in app.appbuilder.baseviews:
        if type(view).__name__ in ("UnitView", "UnitApi"):
            monkeypatch.setattr(view, "field_rights", {"inn": "cabinet.see_cost"}, raising=False)


def _client(session, login, see_cost: str):
    role = make_role(session, f"Стоимость {see_cost}", {
        "admin.units": "delete", "scope.data": "own_subtree", "cabinet.see_cost": see_cost})
    make_user(session, f"cost_{see_cost}", roles=[role], home_unit=unit(session, "MSK-TVR"))
    department = unit(session, "MSK-TVR-THR")
    department.inn = SECRET
    session.commit()
    return login(f"cost_{see_cost}"), department


@pytest.mark.usefixtures("inn_is_a_cost")
def test_hidden_field_is_absent_everywhere(session, login):
    client, department = _client(session, login, "no")
    assert SECRET not in client.get("/unitview/list/").get_data(as_text=True)
    show = client.get(f"/unitview/show/{department.id}").get_data(as_text=True)
    assert SECRET not in show and "ИНН" not in show
    assert 'name="inn"' not in client.get(f"/unitview/edit/{department.id}").get_data(as_text=True)
    assert 'name="inn"' not in client.get("/unitview/add").get_data(as_text=True)
    one = client.get(f"/api/v1/unit/{department.id}").get_json()
    assert "inn" not in one["result"] and "inn" not in one["show_columns"]
    rows = client.get("/api/v1/unit/?q=(columns:!(id,inn,name))").get_json()["result"]
    assert rows and all("inn" not in row for row in rows)


@pytest.mark.usefixtures("inn_is_a_cost")
def test_hidden_field_cannot_be_filtered_or_sorted(session, login):
    client, _ = _client(session, login, "no")
    assert client.get("/unitview/list/?_flt_0_inn=7712").status_code == 400
    assert client.get("/unitview/list/?_oc_UnitView=inn&_od_UnitView=asc").status_code == 400
    api_filter = client.get("/api/v1/unit/?q=(filters:!((col:inn,opr:sw,value:'77')))")
    assert api_filter.status_code == 400
    assert client.get("/api/v1/unit/?q=(order_column:inn,order_direction:asc)").status_code == 400


@pytest.mark.usefixtures("inn_is_a_cost")
def test_saving_keeps_the_hidden_value(session, login):
    client, department = _client(session, login, "no")
    response = client.put(f"/api/v1/unit/{department.id}", json={"inn": "0000000000",
                                                                 "name": "Терапия-2"})
    assert response.status_code == 200
    session.expire_all()
    assert unit(session, "MSK-TVR-THR").inn == SECRET
    assert unit(session, "MSK-TVR-THR").name == "Терапия-2"


@pytest.mark.usefixtures("inn_is_a_cost")
def test_the_field_is_visible_with_the_right(session, login):
    client, department = _client(session, login, "yes")
    assert SECRET in client.get(f"/unitview/show/{department.id}").get_data(as_text=True)
    assert client.get(f"/api/v1/unit/{department.id}").get_json()["result"]["inn"] == SECRET
    assert client.get("/unitview/list/?_flt_0_inn=7712").status_code == 200
