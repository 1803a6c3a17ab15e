"""The test database template (tests/template_db.py): rebuilt when what shapes it
changes and only then, built once when two pytest processes start together, never
left half-built; and the cheap password hash exists under testing only."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine, text

from config import TESTING_PASSWORD_HASH, load_config
from tests import template_db


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A small project tree the key is computed over; returns a file writer."""
    monkeypatch.setattr(template_db, "BASE_DIR", tmp_path)

    def write(name: str, content: str) -> None:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)

    for name in template_db.FIXED_INPUTS:
        write(name if "." in name.rsplit("/", 1)[-1] else f"{name}/a.py", "x = 1\n")
    for root in template_db.ROOTS:
        write(root, "")
    write("demo/loader.py", "from services.vouchers.pricing import price\n")
    write("services/vouchers/pricing.py", "def price():\n    from models.org import Unit\n")
    write("services/__init__.py", "")
    write("views/screen.py", "")
    return write


def test_the_key_follows_the_demo_loader_and_what_it_imports(tree):
    day = dt.date(2026, 12, 1)
    first = template_db.template_key(day)
    tree("views/screen.py", "changed = True\n")  # not imported by the demo
    assert template_db.template_key(day) == first
    tree("services/vouchers/pricing.py", "def price():\n    return 2\n")  # imported by the demo
    second = template_db.template_key(day)
    assert second != first
    tree("migrations/versions/0002_new.py", "revision = '0002'\n")
    assert template_db.template_key(day) != second


def test_the_key_changes_with_the_day_the_demo_dates_its_rows_from():
    today = dt.date.today()
    assert template_db.template_key(today) != template_db.template_key(
        today + dt.timedelta(days=1))


def _builder(calls: list[str], seconds: float = 0.0):
    def build(url: str) -> None:
        calls.append(url)
        time.sleep(seconds)
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.execute("CREATE TABLE built (n INTEGER)")
        conn.commit()
        conn.close()

    return build


def test_two_sessions_starting_together_build_the_template_once(tmp_path, monkeypatch):
    monkeypatch.setenv("UCHET_TEST_TEMPLATE_DIR", str(tmp_path))
    calls: list[str] = []
    results = []
    build = _builder(calls, seconds=0.5)
    threads = [threading.Thread(target=lambda: results.append(
        template_db.sqlite_template(build, key="k1"))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert results[0] == results[1] == tmp_path / "k1.sqlite3"
    assert not list(tmp_path.glob("*.building"))
    copy = template_db.copy_sqlite(results[0], tmp_path / "session.sqlite3")
    tables = sqlite3.connect(copy.removeprefix("sqlite:///")).execute(
        "SELECT name FROM sqlite_master").fetchall()
    assert tables == [("built",)]
    # The next session reuses it.
    template_db.sqlite_template(build, key="k1")
    assert len(calls) == 1


def test_a_failed_build_leaves_no_template_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("UCHET_TEST_TEMPLATE_DIR", str(tmp_path))

    def broken(url: str) -> None:
        sqlite3.connect(url.removeprefix("sqlite:///")).execute("CREATE TABLE half (n)")
        raise RuntimeError("migration failed")

    with pytest.raises(RuntimeError):
        template_db.sqlite_template(broken, key="k2")
    assert list(tmp_path.glob("k2.*")) == [tmp_path / "k2.lock"]
    calls: list[str] = []
    template_db.sqlite_template(_builder(calls), key="k2")
    assert len(calls) == 1


def test_postgresql_template_is_built_once_and_cloned(pg_server):
    key = f"t{uuid.uuid4().hex[:15]}"
    calls: list[str] = []

    def build(url: str) -> None:
        calls.append(url)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE built (n integer)"))
            conn.execute(text("INSERT INTO built VALUES (7)"))
        engine.dispose()

    clones = [f"uchet_test_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    try:
        template = template_db.pg_template(pg_server, build, key=key)
        assert template_db.pg_template(pg_server, build, key=key) == template
        assert len(calls) == 1
        for name in clones:
            engine = create_engine(template_db.clone_pg(pg_server, template, name))
            with engine.connect() as conn:
                assert conn.scalar(text("SELECT n FROM built")) == 7
            engine.dispose()
        with admin.connect() as conn:
            partial = conn.scalar(text("SELECT count(*) FROM pg_database WHERE datname LIKE :p"),
                                  {"p": f"{template}_b%"})
        assert partial == 0
    finally:
        with admin.connect() as conn:
            for name in [*clones, f"{template_db.PG_PREFIX}{key}"]:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- the cheap password hash is for tests only ---------------------------------


@pytest.mark.parametrize("mode", ["production", "development"])
def test_other_modes_keep_fab_s_strong_password_hash(tmp_path, mode):
    config = load_config({"UCHET_ENV": mode, "UCHET_INSTANCE_DIR": str(tmp_path),
                          "DATABASE_URL": "postgresql://u:p@db/uchet", "SECRET_KEY": "k" * 40})
    # FAB's default is scrypt; nothing here may weaken it or its unknown-user check.
    assert config.get("FAB_PASSWORD_HASH_METHOD", "scrypt").startswith("scrypt")
    assert "AUTH_DB_FAKE_PASSWORD_HASH_CHECK" not in config


def test_testing_hashes_new_passwords_cheaply(app, session):
    from werkzeug.security import check_password_hash

    from models.user import AppUser

    assert app.config["FAB_PASSWORD_HASH_METHOD"] == TESTING_PASSWORD_HASH
    sm = app.appbuilder.sm
    user = sm.add_user("cheap_hash", "Тест", "Тестов", "cheap@test.local",
                       sm.find_role("Регистратор"), password="secret-1")
    assert user.password.startswith(TESTING_PASSWORD_HASH + "$")
    assert check_password_hash(user.password, "secret-1")
    demo = session.query(AppUser).filter_by(username="registrar").one()
    assert demo.password.startswith(TESTING_PASSWORD_HASH + "$")
