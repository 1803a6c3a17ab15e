"""Shared fixtures: one migrated database with demo data per test session; each
test runs inside a transaction that is rolled back afterwards.

The session's database is a copy of a template built once per change of the
migrations, catalogue, presets and demo loader (tests/template_db.py), so a
session starts in seconds. UCHET_TEST_DATABASE_URL picks the server (a
PostgreSQL URL makes the suite clone its own database there from a template
database); by default a SQLite file is used.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import pytest

os.environ["UCHET_ENV"] = "testing"

from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from tests import template_db
from tests.support import PG_SERVER_URL, pg_reachable

APP_OVERRIDES = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-000",
}


def _build_template(url: str) -> None:
    """Fill the empty database at `url`: migrations, permissions, demo data; the demo
    users' passwords hashed with the testing method (logins in tests stay cheap)."""
    from flask_migrate import upgrade
    from sqlalchemy import update
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.extensions import db
    from demo.loader import DEMO_PASSWORD, load_demo
    from models.user import AppUser
    from security.sync import sync_all

    builder = create_app({**APP_OVERRIDES, "SQLALCHEMY_DATABASE_URI": url})
    with builder.app_context():
        try:
            upgrade()
            sync_all(db.session, builder.appbuilder)
            db.session.commit()
            load_demo(db.session)
            method = builder.config["FAB_PASSWORD_HASH_METHOD"]
            db.session.execute(update(AppUser).values(
                password=generate_password_hash(DEMO_PASSWORD, method=method)))
            db.session.commit()
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """Return the URL of this session's own copy of the template database."""
    wanted = os.environ.get("UCHET_TEST_DATABASE_URL", "").strip()
    if not wanted or wanted.startswith("sqlite"):
        template = template_db.sqlite_template(_build_template)
        # A SQLite URL names the file the session's copy goes to.
        path = make_url(wanted).database if wanted else None
        target = Path(path) if path else tmp_path_factory.mktemp("db") / "uchet.sqlite3"
        yield template_db.copy_sqlite(template, target)
        return
    url = make_url(wanted).set(drivername="postgresql+psycopg")
    server = url.render_as_string(hide_password=False)
    template = template_db.pg_template(server, _build_template)
    name = f"uchet_test_{uuid.uuid4().hex[:10]}"
    yield template_db.clone_pg(server, template, name)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own app context, as in
    production; otherwise a test's open app context (the `session` fixture)
    would share `g`, the logged-in user and the DB session across requests."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url):
    """Return the app on a migrated database with permissions, presets and demo data."""
    from app import create_app
    from app.extensions import db
    from security.sync import sync_all

    application = create_app({**APP_OVERRIDES, "SQLALCHEMY_DATABASE_URI": database_url})
    application.test_client_class = IsolatedClient
    with application.app_context():
        # The template's permissions follow the views of its day; views are not
        # among its inputs, so bring them in step (a fraction of a second).
        sync_all(db.session, application.appbuilder)
        db.session.commit()
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _rollback_each_test(request, app):
    """Run the test in an outer transaction; every session commit is a savepoint."""
    if "no_db_isolation" in request.keywords:
        yield
        return
    from app.extensions import db

    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection
        db.session.remove()
        factory = db.session.session_factory
        factory.configure(join_transaction_mode="create_savepoint")
        try:
            yield
        finally:
            db.session.remove()
            outer.rollback()
            connection.close()
            engines[None] = engine
            factory.configure(join_transaction_mode="conditional_savepoint")


@pytest.fixture
def session(app):
    """Return the Flask-SQLAlchemy session inside an app context."""
    from app.extensions import db

    with app.app_context():
        yield db.session


@pytest.fixture
def client(app):
    """Return an anonymous test client."""
    return app.test_client()


@pytest.fixture
def login(app):
    """Return a function that logs a demo (or any) user in and returns the client."""

    def _login(username: str, password: str = "demo"):
        c = app.test_client()
        response = c.post("/login/", data={"username": username, "password": password})
        assert response.status_code == 302, f"login of {username} failed"
        assert "/login" not in response.headers.get("Location", ""), f"{username}: bad password"
        return c

    return _login


@pytest.fixture
def count_queries(app):
    """Return a context manager collecting the SQL statements run inside it."""
    from app.extensions import db

    @contextlib.contextmanager
    def _count():
        statements: list[str] = []

        def _before(_conn, _cursor, statement, _params, _context, _executemany):
            statements.append(statement)

        with app.app_context():
            engine = db.engines[None]
            target = engine.engine if hasattr(engine, "engine") else engine
        event.listen(target, "before_cursor_execute", _before)
        try:
            yield statements
        finally:
            event.remove(target, "before_cursor_execute", _before)

    return _count


@pytest.fixture
def pg_server():
    """Return a PostgreSQL server URL, or skip when none is reachable."""
    if not pg_reachable():
        if os.environ.get("UCHET_REQUIRE_SERVICES") == "1":
            pytest.fail(f"PostgreSQL is required (UCHET_REQUIRE_SERVICES=1) at {PG_SERVER_URL}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_SERVER_URL}")
    return PG_SERVER_URL
