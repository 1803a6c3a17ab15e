"""The role x endpoint x row matrix, generated from the catalogue and the view
registry: for every governed screen and API and every value of its governing
right, a user of branch MSK-TVR (scope: own unit and children) gets exactly
what the value allows, on a row of his branch and on a row of another one.

A new governed view must be given its rows in ROWS, or the first test fails.
"""

from __future__ import annotations

import pytest

from security.catalogue import load_catalogue
from tests.support import make_role, make_user, unit

# view -> (kind of row, own row key, foreign row key, url prefix)
ROWS = {
    "UnitView": ("unit", "MSK-TVR-THR", "SPB-NEV", "/unitview"),
    "UnitApi": ("unit", "MSK-TVR-THR", "SPB-NEV", "/api/v1/unit"),
    "UserView": ("user", "registrar", "client_user", "/users"),
    "UserApi": ("user", "registrar", "client_user", "/api/v1/user"),
    "JournalView": (None, None, None, "/journalview/list/"),
    "RightsView": (None, None, None, "/rights/"),
}
LEVELS = ["none", "view", "edit", "create", "delete"]


def _governed():
    import views
    from views.registry import REGISTRY

    views.load_all()
    found = {}
    for entry in REGISTRY:
        for cls in (entry.view, *entry.apis):
            if getattr(cls, "governing_right", None):
                found[cls.__name__] = cls.governing_right
    return found


GOVERNED = _governed()
CASES = [
    (view, right, value)
    for view, right in sorted(GOVERNED.items())
    for value in load_catalogue().rights[right].values
]


def test_every_governed_view_is_in_the_matrix():
    assert set(GOVERNED) == set(ROWS), "give new governed views their rows in ROWS"


def _row_id(session, kind, key):
    from sqlalchemy import select

    from models.user import AppUser

    if kind == "unit":
        return unit(session, key).id
    return session.scalar(select(AppUser.id).where(AppUser.username == key))


def _at_least(value, level):
    return LEVELS.index(value) >= LEVELS.index(level)


@pytest.fixture
def as_role(session, login):
    def _make(right, value):
        role = make_role(session, f"Проверка {right}={value}",
                         {right: value, "scope.data": "own_subtree"})
        make_user(session, "probe", roles=[role], home_unit=unit(session, "MSK-TVR"))
        return login("probe")

    return _make


def _denied(response):
    return response.status_code in (401, 403) or (
        response.status_code == 302 and "/login" in response.headers.get("Location", "")
    )


@pytest.mark.parametrize(("view", "right", "value"), CASES)
def test_matrix(session, as_role, view, right, value):
    client = as_role(right, value)
    kind, own_key, foreign_key, prefix = ROWS[view]
    catalogue = load_catalogue()
    if catalogue.rights[right].kind == "flag":
        response = client.get(prefix)
        assert (response.status_code == 200) == (value == "yes"), response.status_code
        if value != "yes":
            assert _denied(response)
        return
    own, foreign = _row_id(session, kind, own_key), _row_id(session, kind, foreign_key)
    if prefix.startswith("/api/"):
        _check_api(client, prefix, value, own, foreign)
    else:
        _check_ui(session, client, prefix, value, own, foreign, own_key, foreign_key)


def _check_ui(session, client, prefix, value, own, foreign, own_key, foreign_key):
    listing = client.get(f"{prefix}/list/")
    if not _at_least(value, "view"):
        assert _denied(listing)
        assert _denied(client.get(f"{prefix}/show/{own}"))
        assert _denied(client.get(f"{prefix}/show/{foreign}"))
        return
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert own_key in text
    assert foreign_key not in text
    assert client.get(f"{prefix}/show/{own}").status_code == 200
    assert client.get(f"{prefix}/show/{foreign}").status_code == 404
    edit_own = client.get(f"{prefix}/edit/{own}")
    edit_foreign = client.get(f"{prefix}/edit/{foreign}")
    if _at_least(value, "edit"):
        assert edit_own.status_code == 200
        assert edit_foreign.status_code == 404
    else:
        assert _denied(edit_own) and _denied(edit_foreign)
    add = client.get(f"{prefix}/add")
    assert (add.status_code == 200) == _at_least(value, "create")
    delete = client.post(f"{prefix}/delete/{foreign}")
    if _at_least(value, "delete"):
        assert delete.status_code == 404
    else:
        assert _denied(delete)
    bulk = client.post(f"{prefix}/action_post", data={"action": "muldelete", "rowid": [foreign]})
    assert bulk.status_code in ((404,) if _at_least(value, "delete") else (401, 403, 404))


def _check_api(client, prefix, value, own, foreign):
    listing = client.get(f"{prefix}/")
    if not _at_least(value, "view"):
        assert listing.status_code in (401, 403)
        assert client.get(f"{prefix}/{own}").status_code in (401, 403)
        return
    assert listing.status_code == 200
    ids = set(listing.get_json()["ids"])
    assert own in ids
    assert foreign not in ids
    assert client.get(f"{prefix}/{own}").status_code == 200
    assert client.get(f"{prefix}/{foreign}").status_code == 404
    put = client.put(f"{prefix}/{foreign}", json={"active": True})
    if _at_least(value, "edit"):
        assert put.status_code == 404
    else:
        assert put.status_code in (401, 403, 405)
    delete = client.delete(f"{prefix}/{foreign}")
    if _at_least(value, "delete"):
        assert delete.status_code in (404, 405)
    else:
        assert delete.status_code in (401, 403, 405)
