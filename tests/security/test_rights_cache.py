"""Rights are resolved once per change, not once per request (security.rights_cache):
a warm request runs no security query; after the administrator changes a role in
the rights matrix, or a user's roles, the user's next request resolves them again
(once) and the change is in force — a revocation included."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import delete, func, select

from models.rights import RoleChange, RoleRight
from models.user import AppUser
from security.rights_cache import from_json, to_json
from tests.support import REDIS_URL, redis_reachable

SECURITY_TABLES = ("ab_permission_view_role", "role_right")
REGISTRAR = "Регистратор"
LIST = "/voucherview/list/"


@pytest.fixture
def redis_url():
    if not redis_reachable():
        if os.environ.get("UCHET_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is required (UCHET_REQUIRE_SERVICES=1) at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


def _security(statements) -> int:
    return sum(any(t in s for t in SECURITY_TABLES) for s in statements)


def _role_id(session, name: str) -> int:
    from flask_appbuilder.security.sqla.models import Role

    return session.scalar(select(Role.id).where(Role.name == name))


def _get(client, count_queries, url):
    with count_queries() as statements:
        response = client.get(url)
    return response, _security(statements)


def test_a_warm_request_runs_no_security_query(session, login, count_queries):
    registrar = login("registrar")
    assert registrar.get(LIST).status_code == 200
    for url in (LIST, LIST, "/patientview/list/"):
        response, security = _get(registrar, count_queries, url)
        assert response.status_code == 200, url
        assert security == 0, url


def test_a_revoked_right_is_in_force_on_the_next_request_after_one_resolve(
        session, login, count_queries):
    registrar = login("registrar")
    assert registrar.get(LIST).status_code == 200
    assert _get(registrar, count_queries, LIST)[1] == 0

    admin = login("admin")
    reg = _role_id(session, REGISTRAR)
    saved = admin.post("/rights/matrix?section=vouchers",
                       data={f"v:{reg}:voucher.other_vouchers": "none"})
    assert saved.status_code == 302

    response, security = _get(registrar, count_queries, LIST)
    assert response.status_code in (302, 403)  # refused: the right is gone
    assert security <= 2  # resolved once again ...
    response, security = _get(registrar, count_queries, LIST)
    assert response.status_code in (302, 403)
    assert security == 0  # ... and then kept

    admin.post("/rights/matrix?section=vouchers",
               data={f"v:{reg}:voucher.other_vouchers": "delete"})
    assert registrar.get(LIST).status_code == 200  # given back: in force at once


def test_a_user_who_loses_his_role_loses_its_rights_on_the_next_request(session, login):
    registrar = login("registrar")
    assert registrar.get(LIST).status_code == 200
    user = session.scalar(select(AppUser).where(AppUser.username == "registrar"))
    user.roles = []
    session.commit()
    assert registrar.get(LIST).status_code in (302, 403)


def test_a_new_unit_under_a_subtree_is_in_the_scope_at_once(session, login):
    from models.org import Unit

    head = login("branch_head")
    home = session.scalar(select(AppUser).where(AppUser.username == "branch_head")).home_unit
    assert head.get("/unitview/list/").status_code == 200
    child = Unit(kind="department", code="QC-RC-1", name="Новое подразделение кэша",
                 parent=home)
    session.add(child)
    session.commit()
    assert head.get(f"/unitview/show/{child.id}").status_code == 200


def test_the_shared_cache_stores_rights_as_json_and_reads_them_back(session, login):
    from security.effective import resolve

    for username in ("admin", "registrar", "manager", "client_head"):
        user = session.scalar(select(AppUser).where(AppUser.username == username))
        rights = resolve(session, user)
        assert from_json(to_json(rights)) == rights, username


def _restore_rights(app, session, role_id: int, values: dict[str, str], last_change: int
                    ) -> None:
    """Give the role exactly its `values` (and the FAB permissions they derive) again
    and drop the history lines after `last_change` (a test outside the rolled-back
    transaction leaves no trace)."""
    from security.sync import sync_all

    session.execute(delete(RoleChange).where(RoleChange.id > last_change,
                                             RoleChange.role_id == role_id))
    for row in session.scalars(select(RoleRight).where(RoleRight.role_id == role_id)):
        if row.code not in values:
            session.delete(row)
        elif row.value != values[row.code]:
            row.value = values[row.code]
    session.flush()
    sync_all(session, app.appbuilder)
    session.commit()


@pytest.mark.no_db_isolation
def test_two_workers_sharing_redis_see_a_revocation_at_the_next_request(database_url,
                                                                        redis_url):
    """Two app instances (two gunicorn workers, or two machines) on one database and
    one Redis: a right the administrator takes away on the first is gone on the
    second at the user's next request; the rights are stored in Redis."""
    import redis

    from app import create_app
    from app.extensions import db

    def worker():
        return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url,
                           "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})

    from security import rights_cache

    # Two workers are two processes: nothing in this one's memory from earlier tests.
    rights_cache._local.items.clear()
    first, second = worker(), worker()
    admin, registrar = first.test_client(), second.test_client()
    for client, username in ((admin, "admin"), (registrar, "registrar")):
        client.post("/login/", data={"username": username, "password": "demo"})
    with first.app_context():
        reg = _role_id(db.session, REGISTRAR)
        uid = db.session.scalar(select(AppUser.id).where(AppUser.username == "registrar"))
        # Outside the rolled-back transaction: put the role back exactly as it was
        # afterwards, or later tests see a drift from the preset and a history line.
        rights_before = {r.code: r.value for r in db.session.scalars(
            select(RoleRight).where(RoleRight.role_id == reg))}
        last_change = db.session.scalar(select(func.max(RoleChange.id))) or 0
    store = redis.Redis.from_url(redis_url)
    try:
        assert registrar.get(LIST).status_code == 200
        assert store.keys(f"uchet:rights:*:{uid}:*"), "the rights are not kept in Redis"
        assert admin.post("/rights/matrix?section=vouchers",
                          data={f"v:{reg}:voucher.other_vouchers": "none"}).status_code == 302
        assert registrar.get(LIST).status_code in (302, 403)
    finally:
        admin.post("/rights/matrix?section=vouchers",
                   data={f"v:{reg}:voucher.other_vouchers": "delete"})
        for key in store.keys(f"uchet:rights:*:{uid}:*"):
            store.delete(key)
        with first.app_context():
            _restore_rights(first, db.session, reg, rights_before, last_change)
        for app in (first, second):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    assert registrar.get(LIST).status_code == 200
