"""Configuration from the environment: what an operator must set, what a developer gets free."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url

from config import BASE_DIR, MIN_SECRET_KEY_LENGTH, ConfigError, load_config

GOOD_KEY = "k" * MIN_SECRET_KEY_LENGTH
PG_URL = "postgresql://uchet:secret@db.example:5432/uchet"


@pytest.fixture
def instance(tmp_path):
    """Return an instance folder that does not exist yet."""
    return tmp_path / "instance"


def _env(instance, **values) -> dict[str, str]:
    return {"UCHET_INSTANCE_DIR": str(instance), **values}


# --- production: refuse to start without the essentials -----------------------


def test_production_without_database_url_names_it(instance):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_config(_env(instance, UCHET_ENV="production", SECRET_KEY=GOOD_KEY))


def test_production_without_secret_key_names_it(instance):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(_env(instance, UCHET_ENV="production", DATABASE_URL=PG_URL))


def test_production_with_short_secret_key_names_it(instance):
    short = "k" * (MIN_SECRET_KEY_LENGTH - 1)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(_env(instance, UCHET_ENV="production", DATABASE_URL=PG_URL, SECRET_KEY=short))


def test_production_with_complete_settings_is_hardened(instance):
    config = load_config(
        _env(instance, UCHET_ENV="production", DATABASE_URL=PG_URL, SECRET_KEY=GOOD_KEY)
    )
    assert config["SECRET_KEY"] == GOOD_KEY
    assert config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://uchet:secret@db.example:5432/uchet"
    )
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["FAB_API_SWAGGER_UI"] is False
    # Workers never write the schema or the permissions: deploy steps do.
    assert config["FAB_CREATE_DB"] is False
    assert config["FAB_UPDATE_PERMS"] is False
    # Production writes nothing to the instance folder.
    assert not instance.exists()


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "mysql://x/y",
        "http://example.com/db",
        "postgresql://db.example",  # no database name
        "postgresql+psycopg2://u@db.example/uchet",  # a driver that is not installed
    ],
)
@pytest.mark.parametrize("mode", ["production", "development"])
def test_malformed_database_url_names_it(instance, url, mode):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_config(_env(instance, UCHET_ENV=mode, DATABASE_URL=url, SECRET_KEY=GOOD_KEY))


def test_unknown_mode_names_uchet_env(instance):
    with pytest.raises(ConfigError, match="UCHET_ENV"):
        load_config(_env(instance, UCHET_ENV="staging"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgres://u:p%40ss@db.example:6432/uchet", "postgresql+psycopg://u:p%40ss@db.example:6432/uchet"),
        ("postgresql://u@db.example/uchet", "postgresql+psycopg://u@db.example/uchet"),
        ("postgresql+psycopg://u@db.example/uchet", "postgresql+psycopg://u@db.example/uchet"),
    ],
)
def test_postgres_urls_use_psycopg3_and_keep_the_password(instance, raw, expected):
    config = load_config(_env(instance, UCHET_ENV="production", DATABASE_URL=raw,
                              SECRET_KEY=GOOD_KEY))
    assert config["SQLALCHEMY_DATABASE_URI"] == expected


def test_replica_url_is_normalised_and_absent_by_default(instance):
    base = _env(instance, UCHET_ENV="production", DATABASE_URL=PG_URL, SECRET_KEY=GOOD_KEY)
    assert load_config(base)["UCHET_REPLICA_URL"] is None
    config = load_config({**base, "UCHET_REPLICA_URL": "postgres://ro@db-replica/uchet"})
    assert config["UCHET_REPLICA_URL"] == "postgresql+psycopg://ro@db-replica/uchet"


@pytest.mark.parametrize(("raw", "said"), [
    ("not a url", "UCHET_REPLICA_URL is malformed"),
    ("mysql://u@db/uchet", "UCHET_REPLICA_URL names an unsupported database"),
    ("postgresql://u@db-replica", "UCHET_REPLICA_URL has no database name"),
    ("sqlite:///replica.sqlite3", "the replica must be a copy of the primary"),
])
def test_a_bad_replica_url_names_the_setting(instance, raw, said):
    with pytest.raises(ConfigError, match=said):
        load_config(_env(instance, UCHET_ENV="production", DATABASE_URL=PG_URL,
                         SECRET_KEY=GOOD_KEY, UCHET_REPLICA_URL=raw))


# --- development: works with nothing set -------------------------------------------


def test_development_defaults_to_sqlite_in_the_instance_folder(instance):
    config = load_config(_env(instance, UCHET_ENV="development"))
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    assert url.get_backend_name() == "sqlite"
    assert url.database == str(instance / "uchet.sqlite3")
    assert instance.is_dir()
    assert config["INSTANCE_DIR"] == str(instance)


def test_mode_defaults_to_development(instance):
    config = load_config(_env(instance))
    assert config["UCHET_ENV"] == "development"
    assert config["SESSION_COOKIE_SECURE"] is False


def test_development_secret_key_is_generated_once_and_kept_private(instance):
    first = load_config(_env(instance, UCHET_ENV="development"))["SECRET_KEY"]
    key_file = instance / "secret_key"
    assert len(first) >= MIN_SECRET_KEY_LENGTH
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A restart reads the same key, so sessions survive it.
    second = load_config(_env(instance, UCHET_ENV="development"))["SECRET_KEY"]
    assert second == first


def test_each_instance_folder_gets_its_own_secret_key(tmp_path):
    one = load_config(_env(tmp_path / "one", UCHET_ENV="development"))["SECRET_KEY"]
    two = load_config(_env(tmp_path / "two", UCHET_ENV="development"))["SECRET_KEY"]
    assert one != two


def test_explicit_secret_key_wins_and_writes_no_file(instance):
    config = load_config(_env(instance, UCHET_ENV="development", SECRET_KEY="short-dev-key"))
    assert config["SECRET_KEY"] == "short-dev-key"
    assert not (instance / "secret_key").exists()


def test_russian_is_the_default_language_and_english_the_second(instance):
    config = load_config(_env(instance, UCHET_ENV="development"))
    assert config["BABEL_DEFAULT_LOCALE"] == "ru"
    assert set(config["LANGUAGES"]) == {"ru", "en"}
    assert config["APP_NAME"] == "Учёт"


def test_load_config_reads_only_the_mapping_it_is_given(instance, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://from/process")
    config = load_config(_env(instance, UCHET_ENV="development"))
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


# --- start-up as gunicorn does it ----------------------------------------------------


@pytest.mark.parametrize(
    "bad_url",
    [None, "mysql://x/y", "postgresql+psycopg2://u@db.example/uchet"],
    ids=["missing", "unsupported", "driver-not-installed"],
)
def test_production_start_up_fails_with_one_line_naming_database_url(tmp_path, bad_url):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("UCHET_") and k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update(UCHET_ENV="production", SECRET_KEY=GOOD_KEY,
               UCHET_INSTANCE_DIR=str(tmp_path / "instance"))
    if bad_url:
        env["DATABASE_URL"] = bad_url
    result = subprocess.run(
        [sys.executable, "-c", "import run"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DATABASE_URL" in lines[0]
    assert "Traceback" not in result.stderr
