"""Helpers shared by tests (not fixtures): service discovery and factories."""

from __future__ import annotations

import itertools
import os

from sqlalchemy import create_engine, select, text

PG_SERVER_URL = os.environ.get(
    "UCHET_TEST_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("UCHET_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
_seq = itertools.count(1)


def pg_reachable() -> bool:
    """Return True when the PostgreSQL server of PG_SERVER_URL answers."""
    try:
        engine = create_engine(PG_SERVER_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def redis_reachable() -> bool:
    """Return True when Redis answers a PING."""
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


def unit(session, code: str):
    """Return the unit with the given code (demo data)."""
    from models.org import Unit

    return session.scalar(select(Unit).where(Unit.code == code))


def make_unit(session, *, kind: str, parent=None, **overrides):
    """Create (and flush) a unit; returns it."""
    from models.org import Unit

    n = next(_seq)
    values = {"code": f"T{n:05d}", "name": f"Тестовое подразделение {n}", "kind": kind,
              "parent": parent, "active": True}
    values.update(overrides)
    obj = Unit(**values)
    session.add(obj)
    session.flush()
    return obj


def make_role(session, name: str, values: dict[str, str] | None = None, side="back_office"):
    """Create a role with the given right values (others default) and synced permissions."""
    from flask import current_app
    from flask_appbuilder.security.sqla.models import Role

    from models.rights import RoleProfile, RoleRight
    from security.catalogue import load_catalogue
    from security.sync import ensure_rights_rows, governed_views, sync_role_permissions

    catalogue = load_catalogue()
    role = Role(name=name)
    session.add(role)
    session.flush()
    session.add(RoleProfile(role_id=role.id, side=side))
    for code, value in (values or {}).items():
        value = catalogue.validate_value(code, value)
        session.add(RoleRight(role_id=role.id, code=code, value=value))
    session.flush()
    ensure_rights_rows(session, role, catalogue)
    session.flush()
    appbuilder = current_app.appbuilder
    sync_role_permissions(session, role, governed_views(appbuilder), appbuilder.sm.auth_role_admin)
    session.commit()
    return role


def _hash(app, password: str) -> str:
    from werkzeug.security import generate_password_hash

    # The app's method: cheap under testing (config.TESTING_PASSWORD_HASH).
    method = app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def make_user(session, username: str, *, roles=(), home_unit=None, password="demo", **overrides):
    """Create (and commit) a user; returns it."""
    from flask import current_app

    from models.user import AppUser

    user = AppUser(username=username, first_name=overrides.pop("first_name", "Тест"),
                   last_name=overrides.pop("last_name", username), email=f"{username}@test.local",
                   active=True, password=_hash(current_app, password), roles=list(roles),
                   home_unit=home_unit, **overrides)
    session.add(user)
    session.commit()
    return user
