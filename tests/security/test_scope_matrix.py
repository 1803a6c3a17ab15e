"""One scope mechanism: for every model placed in the organisation tree and several
demo users, `scoped(select(Model), rights)` keeps exactly the rows that FAB's
screen filters keep (its list, show, edit and delete), and that its REST API
returns over HTTP to each user who may read it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import prison
import pytest
from flask import g
from sqlalchemy import select

from models.patients import Patient
from models.user import AppUser
from models.vouchers import Voucher
from security.effective import resolve
from security.scope import WRITE, FilterInScope, Scope, is_scoped, scoped
from tests.support import make_role, make_user, unit
from views.api import UchetModelRestApi
from views.base import UchetModelView

#: A registrar made here, without «Доступ к талонам других пользователей».
SOLO = "solo"
USERS = ["registrar", "doctor", "branch_head", "accountant", "client_head", "client_user",
         "manager", SOLO]
#: More rows than any demo user reads through one API (pages of FAB_API_MAX_PAGE_SIZE).
MAX_PAGES = 60


def _user(session, username) -> AppUser:
    if username == SOLO and _find(session, SOLO) is None:
        # A registrar of Тверской without «Доступ к талонам других пользователей»: the
        # voucher rules, not only the branch, decide what he reads.
        role = make_role(session, "Регистратор только своих талонов", {
            "scope.data": "own_subtree", "voucher.other_vouchers": "create",
            "voucher.others_access": "no", "contract.contracts": "view"})
        solo = make_user(session, SOLO, roles=[role], home_unit=unit(session, "MSK-TVR"))
        patient = session.scalars(select(Patient).where(
            Patient.home_branch_id == solo.home_unit_id)).first()
        session.add(Voucher(service_date=dt.date.today(), branch=solo.home_unit,
                            patient=patient, created_by_id=solo.id))
        session.commit()
    return _find(session, username)


def _find(session, username) -> AppUser | None:
    return session.scalar(select(AppUser).where(AppUser.username == username))


def _scoped_ids(session, model, rights, action="read") -> set[int]:
    return set(session.scalars(scoped(select(model.id), rights, action)))


def _declared(session, view, ids: set[int]) -> set[int]:
    """Return those of `ids` that pass the view's own base filters other than the
    scope (an invoice list shows one kind of invoice): the scope is what is compared."""
    own = [f for f in (view.base_filters or []) if f[1] is not FilterInScope]
    if not own:
        return ids
    filters = view.datamodel.get_filters().add_filter_list(own)
    return ids & {row.id for row in filters.apply_all(session.query(view.datamodel.obj.id))}


def _views(app, kind) -> list:
    views = [v for v in app.appbuilder.baseviews
             if isinstance(v, kind) and is_scoped(v.datamodel.obj)]
    assert len(views) >= 20, "every scoped reference book, document and cabinet table"
    return views


def _api_ids(client, api) -> set[int] | None:
    """Return the ids the API lists to the user, or None when he may not list them."""
    ids: set[int] = set()
    for page in range(MAX_PAGES):
        query = prison.dumps({"columns": ["id"], "page": page, "page_size": 100})
        response = client.get(f"/api/v1/{api.resource_name}/?q={query}")
        if response.status_code in (401, 403):
            return None
        assert response.status_code == 200, (api.resource_name, response.data[:300])
        rows = response.get_json()["result"]
        ids |= {row["id"] for row in rows}
        if len(rows) < 100:
            return ids
    pytest.fail(f"{api.resource_name}: more than {MAX_PAGES} pages")


@pytest.mark.parametrize("username", USERS)
def test_scoped_keeps_the_rows_fab_filters_keep(app, session, username):
    user = _user(session, username)
    rights = resolve(session, user)
    checked = 0
    for view in _views(app, UchetModelView):
        model = view.datamodel.obj
        with app.test_request_context():
            g.user = user
            fab = {row.id for row in view._base_filters.apply_all(session.query(model.id))}
        assert fab == _declared(session, view, _scoped_ids(session, model, rights)), \
            (type(view).__name__, username)
        checked += bool(fab)
        if username == SOLO and model is Voucher:
            branch = set(session.scalars(select(Voucher.id).where(
                Voucher.branch_id == user.home_unit_id)))
            assert fab and fab < branch, "he reads his own voucher, not his colleagues'"
    assert checked, f"{username} reads no row at all: the matrix would prove nothing"


@pytest.mark.parametrize("username", USERS)
def test_scoped_keeps_the_rows_the_api_lists_over_http(session, login, app, username):
    rights = resolve(session, _user(session, username))
    client = login(username)
    listed = 0
    for api in _views(app, UchetModelRestApi):
        got = _api_ids(client, api)
        if got is None:
            continue
        listed += 1
        assert got == _declared(session, api, _scoped_ids(session, api.datamodel.obj, rights)), \
            (api.resource_name, username)
    if username in ("registrar", "doctor", "branch_head", "accountant", SOLO):
        assert listed, f"{username} may list no API: the matrix would prove nothing"


@pytest.mark.parametrize("username", USERS)
def test_no_scope_no_rows_and_writes_within_reads(app, session, username):
    """Deny by default: the same rights with an empty scope read nothing; and what a
    user may write he may also read."""
    rights = resolve(session, _user(session, username))
    blind = dataclasses.replace(rights, scope=Scope.nothing())
    for view in _views(app, UchetModelView):
        model = view.datamodel.obj
        assert _scoped_ids(session, model, blind) == set(), type(view).__name__
        assert _scoped_ids(session, model, rights, WRITE) <= _scoped_ids(session, model, rights)
