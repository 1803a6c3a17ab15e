"""No statement holds a worker past gunicorn's timeout: PostgreSQL sessions carry a
`statement_timeout` (STATEMENT_TIMEOUT_MS, 25 s by default, below gunicorn's 30 s),
and a statement running longer is cancelled by the server."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from config import ConfigError, load_config

pytestmark = pytest.mark.no_db_isolation


def _env(tmp_path, **extra):
    return {"UCHET_INSTANCE_DIR": str(tmp_path), "UCHET_ENV": "testing",
            "DATABASE_URL": "postgresql://uchet@db.example:5432/uchet", **extra}


def test_the_timeout_is_below_gunicorns_and_set_by_a_setting(tmp_path):
    default = load_config(_env(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"]
    assert "statement_timeout=25000" in default["connect_args"]["options"]
    short = load_config(_env(tmp_path, STATEMENT_TIMEOUT_MS="150"))
    assert "statement_timeout=150" in short["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"][
        "options"]
    with pytest.raises(ConfigError, match="STATEMENT_TIMEOUT_MS"):
        load_config(_env(tmp_path, STATEMENT_TIMEOUT_MS="25s"))


def test_postgresql_cancels_a_statement_past_the_timeout(tmp_path, pg_server):
    options = load_config(_env(tmp_path, DATABASE_URL=pg_server,
                               STATEMENT_TIMEOUT_MS="200"))["SQLALCHEMY_ENGINE_OPTIONS"]
    from sqlalchemy.engine import make_url

    url = make_url(pg_server).set(drivername="postgresql+psycopg")
    engine = create_engine(url, **options)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT 1")) == 1
            with pytest.raises(OperationalError, match="statement timeout"):
                conn.execute(text("SELECT pg_sleep(2)"))
    finally:
        engine.dispose()
