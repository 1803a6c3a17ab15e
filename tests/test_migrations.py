"""The Alembic migrations build exactly the schema the models declare, on SQLite and
PostgreSQL, and tear it down again.

These tests build their own databases, so they run outside the per-test
rolled-back transaction (`no_db_isolation`).
"""

from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_appbuilder import Model
from sqlalchemy import create_engine, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url

import models  # noqa: F401  - registers every table on the metadata
from config import BASE_DIR

pytestmark = pytest.mark.no_db_isolation

MIGRATIONS = BASE_DIR / "migrations"


@contextmanager
def _migrating_app(url: str):
    """Yield a fresh app bound to `url`, inside its app context; dispose its engine after."""
    from app import create_app
    from app.extensions import db

    application = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with application.app_context():
        try:
            yield application
        finally:
            db.session.remove()
            db.engine.dispose()


def _schema_diff() -> list:
    """Return Alembic's autogenerate differences between the database and the models."""
    from app.extensions import db

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Model.metadata)


def _table_names() -> set[str]:
    from app.extensions import db

    with db.engine.connect() as conn:
        return set(sa_inspect(conn).get_table_names())


def _round_trip(url: str) -> None:
    """Upgrade an empty database to head, compare with the models, downgrade to base."""
    from flask_migrate import downgrade, upgrade

    with _migrating_app(url):
        assert _table_names() == set()
        upgrade()
        assert set(Model.metadata.tables) <= _table_names()
        assert _schema_diff() == []
        downgrade(revision="base")
        assert _table_names() - {"alembic_version"} == set()


def test_migrations_have_a_single_head():
    # Two heads would make `flask db upgrade` at deploy stop with an error.
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_sqlite_upgrade_builds_the_model_schema_and_downgrade_removes_it(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")


def test_postgresql_upgrade_builds_the_model_schema_and_downgrade_removes_it(pg_server):
    name = f"uchet_migration_{uuid.uuid4().hex[:10]}"
    server = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(pg_server).set(database=name).render_as_string(hide_password=False)
        _round_trip(url)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def test_running_migrations_in_process_keeps_the_app_loggers(tmp_path):
    from flask_migrate import upgrade

    error_log = logging.getLogger("app.errors")  # logs every unexpected 500
    error_log.disabled = False
    with _migrating_app(f"sqlite:///{tmp_path / 'log.sqlite3'}"):
        upgrade()
    assert not error_log.disabled
