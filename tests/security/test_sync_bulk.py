"""`flask uchet sync` writes FAB's permission rows in bulk: the same permissions,
view-menus, permission-views and role assignments as FAB's own `add_permissions`
(a commit per row), on SQLite and PostgreSQL, and nothing more on a second run.

Each test builds its own empty database (the schema from the models), so these
run outside the per-test rolled-back transaction.
"""

from __future__ import annotations

import contextlib
import uuid

import pytest
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    Role,
    ViewMenu,
    assoc_permissionview_role,
)
from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from security.fab_permissions import ensure_permissions
from security.sync import ensure_preset_roles, sync_all

pytestmark = pytest.mark.no_db_isolation


@contextlib.contextmanager
def _fresh_database(app, url: str = "sqlite://", schema: bool = True):
    """Yield the app's session bound to a new empty database, with the models'
    schema unless `schema` is false."""
    from app.extensions import db

    memory = url == "sqlite://"
    engine = create_engine(url, poolclass=StaticPool) if memory else create_engine(url)
    if schema:
        Model.metadata.create_all(engine)
    with app.app_context():
        engines = db.engines
        saved = engines[None]
        engines[None] = engine
        db.session.remove()
        try:
            yield db.session
        finally:
            db.session.remove()
            engines[None] = saved
            engine.dispose()


@contextlib.contextmanager
def _pg_database(server: str):
    """Yield the URL of a new empty PostgreSQL database, dropped afterwards."""
    name = f"uchet_sync_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _snapshot(session) -> dict[str, object]:
    """Return the FAB permission rows and each role's assignments, by name."""
    link = assoc_permissionview_role
    pair = (select(PermissionView.id, Permission.name, ViewMenu.name)
            .join(Permission, Permission.id == PermissionView.permission_id)
            .join(ViewMenu, ViewMenu.id == PermissionView.view_menu_id))
    names = {pv_id: (p, v) for pv_id, p, v in session.execute(pair)}
    roles: dict[str, set[tuple[str, str]]] = {
        name: set() for name in session.scalars(select(Role.name))}
    rows = session.execute(select(Role.name, link.c.permission_view_id)
                           .join(Role, Role.id == link.c.role_id))
    for role, pv_id in rows:
        roles[role].add(names[pv_id])
    return {
        "permissions": set(session.scalars(select(Permission.name))),
        "view_menus": set(session.scalars(select(ViewMenu.name))),
        "pairs": set(names.values()),
        "roles": roles,
    }


@pytest.fixture(scope="module")
def fab_result(app):
    """The rows FAB's own path gives (`add_permissions`: one row and one commit at a
    time), before and after the roles are derived from their rights."""
    from app.extensions import db

    factory = db.session.session_factory
    sm = app.appbuilder.sm
    with _fresh_database(app) as session, pytest.MonkeyPatch.context() as patch:
        ensure_preset_roles(session, sm.auth_role_admin)
        session.commit()
        db.session.remove()
        # Only to save time, nothing in the rows written changes: FAB re-reads the
        # administrator with all his permissions after every commit to give him
        # each new one (quadratic); the sync gives him all of them anyway.
        patch.setattr(sm, "_builtin_roles", {**sm.builtin_roles, sm.auth_role_admin: []})
        factory.configure(expire_on_commit=False)
        try:
            app.appbuilder.add_permissions(update_perms=True)
        finally:
            db.session.remove()
            factory.configure(expire_on_commit=True)
        after_fab = _snapshot(session)
        # The bulk step finds nothing left to create after FAB's.
        assert ensure_permissions(session, app.appbuilder) == 0
        sync_all(session, app.appbuilder)
        session.commit()
        return after_fab, _snapshot(session)


def test_bulk_sync_creates_the_rows_fab_creates(app, fab_result):
    after_fab, fab_synced = fab_result
    with _fresh_database(app) as session:
        sync_all(session, app.appbuilder)
        session.commit()
        bulk = _snapshot(session)
    assert bulk == fab_synced
    for key in ("permissions", "view_menus", "pairs"):
        assert bulk[key] == after_fab[key]
    admin = app.config["AUTH_ROLE_ADMIN"]
    assert bulk["roles"][admin] == bulk["pairs"]
    assert len(bulk["pairs"]) > 500
    # Deny by default: the anonymous role holds nothing, the others a part.
    assert bulk["roles"]["Public"] == set()
    assert all(0 < len(keys) < len(bulk["pairs"]) for name, keys in bulk["roles"].items()
               if name not in (admin, "Public"))


def _writes(session):
    """Return a list that collects the INSERT/UPDATE/DELETE statements run from now on."""
    statements: list[str] = []
    engine = session.get_bind()

    def _before(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _before)
    return statements


def test_a_second_sync_writes_nothing(app):
    with _fresh_database(app) as session:
        sync_all(session, app.appbuilder)
        session.commit()
        first = _snapshot(session)
        writes = _writes(session)
        sync_all(session, app.appbuilder)
        session.commit()
        assert writes == []
        assert _snapshot(session) == first


def test_sync_drops_a_permission_its_view_no_longer_exposes(app):
    with _fresh_database(app) as session:
        sync_all(session, app.appbuilder)
        session.commit()
        permission = session.execute(insert(Permission).values(name="can_gone")
                                     .returning(Permission.id)).scalar_one()
        view = session.scalar(select(ViewMenu.id).where(ViewMenu.name == "UnitView"))
        pv = session.execute(insert(PermissionView)
                             .values(permission_id=permission, view_menu_id=view)
                             .returning(PermissionView.id)).scalar_one()
        role = session.scalar(select(Role.id).where(Role.name == "Регистратор"))
        session.execute(insert(assoc_permissionview_role)
                        .values(role_id=role, permission_view_id=pv))
        session.commit()
        sync_all(session, app.appbuilder)
        session.commit()
        result = _snapshot(session)
    assert ("can_gone", "UnitView") not in result["pairs"]
    assert "can_gone" not in result["permissions"]
    assert ("can_list", "UnitView") in result["pairs"]


def test_bulk_sync_on_postgresql_matches_fab(app, fab_result, pg_server):
    _after_fab, fab_synced = fab_result
    with _pg_database(pg_server) as url, _fresh_database(app, url) as session:
        sync_all(session, app.appbuilder)
        session.commit()
        assert _snapshot(session) == fab_synced
        writes = _writes(session)
        sync_all(session, app.appbuilder)
        session.commit()
        assert writes == []


def test_uchet_setup_builds_a_database_and_a_second_run_writes_nothing(app, tmp_path):
    url = f"sqlite:///{tmp_path / 'setup.sqlite3'}"
    with _fresh_database(app, url, schema=False) as session:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["uchet", "setup", "--no-demo"])
        assert result.exit_code == 0, result.output
        first = _snapshot(session)
        assert first["roles"][app.config["AUTH_ROLE_ADMIN"]] == first["pairs"] != set()
        writes = _writes(session)
        again = runner.invoke(args=["uchet", "setup", "--no-demo"])
        assert again.exit_code == 0, again.output
        assert writes == []
        assert _snapshot(session) == first
