"""Rights are resolved once per change, not once per request (security.rights_cache):
a warm request runs no security query; after the administrator changes a role in
the rights matrix, or a user's roles, the user's next request resolves them again
(once) and the change is in force — a revocation included."""

from __future__ import annotations

from sqlalchemy import select

from models.user import AppUser
from security.rights_cache import from_json, to_json

SECURITY_TABLES = ("ab_permission_view_role", "role_right")
REGISTRAR = "Регистратор"
LIST = "/voucherview/list/"


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
