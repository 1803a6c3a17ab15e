"""What the benchmarks share: a fresh, migrated app on a database URL and a
throw-away PostgreSQL database."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import uuid
from collections.abc import Iterator

PG_SERVER = os.environ.get(
    "UCHET_BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Hide Alembic's INFO lines; show them if the upgrade fails."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stderr(buffer):
            yield
    except BaseException:
        sys.stderr.write(buffer.getvalue())
        raise


@contextlib.contextmanager
def migrated_app(url: str) -> Iterator:
    """Yield a Uchet app on `url`, inside its app context, after `flask db upgrade`."""
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url,
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-0000",
    })
    with app.app_context():
        with _quiet_stderr():
            upgrade()
        logging.getLogger("alembic").setLevel(logging.WARNING)
        yield app


@contextlib.contextmanager
def postgres_database(server: str) -> Iterator[str | None]:
    """Create a fresh database on the server and drop it afterwards; None if unreachable."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 3})
    name = f"uchet_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"postgres: skipped, server not reachable at "
              f"{url.render_as_string(hide_password=True)} ({first})")
        admin.dispose()
        yield None
        return
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pg_version(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        version = conn.scalar(text("SHOW server_version"))
        collation = conn.scalar(text(
            "SELECT datcollate FROM pg_database WHERE datname = current_database()"
        ))
    engine.dispose()
    return f"PostgreSQL {version} (collation {collation})"
