"""Configuration of Uchet, read from the environment.

`load_config()` returns a plain dict for `app.config`. It never reads
`os.environ` directly: the caller passes the mapping, so tests can build a
configuration for any environment without touching the process.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask_appbuilder.const import AUTH_DB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_INSTANCE_DIR = BASE_DIR / "instance"
MODES = ("development", "production", "testing")
SUPPORTED_DRIVERS = ("sqlite", "postgresql")
MIN_SECRET_KEY_LENGTH = 32
# Tests log in thousands of times: under UCHET_ENV=testing passwords are hashed
# with one PBKDF2 round instead of scrypt (~0.1 s each). Never in another mode.
TESTING_PASSWORD_HASH = "pbkdf2:sha256:1"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the setting."""


def _database_url(env: Mapping[str, str], mode: str, instance_dir: Path) -> str:
    """Return a normalised SQLAlchemy URL.

    Raises ConfigError when DATABASE_URL is required (production) and missing,
    or cannot be parsed, or names an unsupported database.
    """
    raw = env.get("DATABASE_URL", "").strip()
    if not raw:
        if mode == "production":
            raise ConfigError("DATABASE_URL is not set (required in production)")
        return f"sqlite:///{instance_dir / 'uchet.sqlite3'}"
    return _normalised_url(raw, "DATABASE_URL")


def _replica_url(env: Mapping[str, str], database_url: str) -> str | None:
    """Return the normalised URL of the read replica (UCHET_REPLICA_URL), or None when
    unset: the statistics and exports then read the primary.

    Raises ConfigError for a malformed URL, an unsupported database, or one of another
    kind than DATABASE_URL's (a replica holds the primary's own data)."""
    raw = env.get("UCHET_REPLICA_URL", "").strip()
    if not raw:
        return None
    url = _normalised_url(raw, "UCHET_REPLICA_URL")
    backend, primary = make_url(url).get_backend_name(), make_url(database_url).get_backend_name()
    if backend != primary:
        raise ConfigError(f"UCHET_REPLICA_URL names a {backend} database, DATABASE_URL a "
                          f"{primary} one: the replica must be a copy of the primary")
    return url


def _normalised_url(raw: str, name: str) -> str:
    """Return the SQLAlchemy URL `raw` of the setting `name`, with psycopg 3 for
    PostgreSQL. Raises ConfigError naming the setting when it is unusable."""
    # Heroku-style and bare PostgreSQL URLs: use psycopg 3, the pinned driver.
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise ConfigError(f"{name} is malformed: {exc}") from None
    backend = url.get_backend_name()
    if backend not in SUPPORTED_DRIVERS:
        raise ConfigError(
            f"{name} names an unsupported database {backend!r}; "
            f"use one of: {', '.join(SUPPORTED_DRIVERS)}"
        )
    if backend == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        if not url.database:
            raise ConfigError(f"{name} has no database name")
    try:
        # A driver named in the URL (postgresql+psycopg2://...) must be importable,
        # or start-up would end in a traceback instead of this one-line message.
        url.get_dialect().import_dbapi()
    except (ArgumentError, ImportError):
        raise ConfigError(
            f"{name} names the driver {url.drivername!r}, which is not installed"
        ) from None
    return url.render_as_string(hide_password=False)


def _secret_key(env: Mapping[str, str], mode: str, instance_dir: Path) -> str:
    """Return the secret key.

    In production SECRET_KEY must be set and at least 32 characters long
    (ConfigError otherwise). In development one is generated once and kept
    in the instance folder so sessions survive restarts.
    """
    key = env.get("SECRET_KEY", "")
    if key:
        if mode == "production" and len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                f"SECRET_KEY is too short: at least {MIN_SECRET_KEY_LENGTH} characters"
            )
        return key
    if mode == "production":
        raise ConfigError("SECRET_KEY is not set (required in production)")
    if mode == "testing":
        return secrets.token_hex(32)
    key_file = instance_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _timezone(env: Mapping[str, str]) -> str:
    """Return the time zone every time is shown in (UCHET_TIMEZONE, default
    Europe/Moscow). Raises ConfigError for a name the tz database does not know."""
    import pytz

    name = env.get("UCHET_TIMEZONE", "").strip() or "Europe/Moscow"
    try:
        pytz.timezone(name)
    except pytz.UnknownTimeZoneError:
        raise ConfigError(f"UCHET_TIMEZONE names an unknown time zone {name!r}; "
                          "use a tz database name such as Europe/Moscow") from None
    return name


#: No statement runs longer (milliseconds): below gunicorn's 30 s worker timeout, so a
#: runaway query ends with an error page instead of a killed worker.
DEFAULT_STATEMENT_TIMEOUT_MS = 25_000


def _engine_options(database_url: str, env: Mapping[str, str] | None = None
                    ) -> dict[str, Any]:
    """Return the engine options; PostgreSQL sessions run in UTC, so that now()
    stamps naive time columns in UTC as SQLite does, whatever the server's zone, and
    with `statement_timeout` (STATEMENT_TIMEOUT_MS, 0: none).

    Raises ConfigError for a timeout that is not a whole number."""
    options: dict[str, Any] = {"pool_pre_ping": True}
    if database_url.startswith("postgresql"):
        raw = (env or {}).get("STATEMENT_TIMEOUT_MS", "").strip()
        if raw and not raw.isdigit():
            raise ConfigError(f"STATEMENT_TIMEOUT_MS must be milliseconds, not {raw!r}")
        timeout = int(raw) if raw else DEFAULT_STATEMENT_TIMEOUT_MS
        options["connect_args"] = {
            "options": f"-c timezone=UTC -c statement_timeout={timeout}"}
    return options


def load_config(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask configuration from an environment mapping.

    Returns a dict. Raises ConfigError naming the first bad setting.
    """
    env = os.environ if env is None else env
    mode = env.get("UCHET_ENV", "development").strip() or "development"
    if mode not in MODES:
        raise ConfigError(f"UCHET_ENV must be one of {', '.join(MODES)}, not {mode!r}")
    instance_dir = Path(env.get("UCHET_INSTANCE_DIR", "") or DEFAULT_INSTANCE_DIR)
    if not env.get("DATABASE_URL") and mode != "production":
        instance_dir.mkdir(parents=True, exist_ok=True)

    database_url = _database_url(env, mode, instance_dir)
    config = {
        "UCHET_ENV": mode,
        "INSTANCE_DIR": str(instance_dir),
        "TESTING": mode == "testing",
        "SECRET_KEY": _secret_key(env, mode, instance_dir),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url, env),
        # A streaming replica the statistics and the exports read (app.replica);
        # None: they read the primary like everything else.
        "UCHET_REPLICA_URL": _replica_url(env, database_url),
        "REDIS_URL": env.get("REDIS_URL", "").strip() or None,
        # The fiscal register driver: "emulator" (its fiscal memory in the database)
        # or "package.module:DriverClass" of a real device's driver.
        "UCHET_FISCAL_DRIVER": env.get("UCHET_FISCAL_DRIVER", "").strip() or "emulator",
        # --- Flask-AppBuilder -------------------------------------------------
        "APP_NAME": "Учёт",
        "APP_THEME": "",
        "AUTH_TYPE": AUTH_DB,
        "AUTH_ROLE_ADMIN": "Администратор",
        "AUTH_ROLE_PUBLIC": "Public",
        "AUTH_USER_REGISTRATION": False,
        # The schema belongs to Alembic: FAB must never call create_all().
        "FAB_CREATE_DB": False,
        # Permissions are written once at deploy (`flask uchet sync`), never by
        # every gunicorn worker at import time, where they race.
        "FAB_UPDATE_PERMS": env.get("FAB_UPDATE_PERMS", "0") == "1",
        "FAB_ADD_SECURITY_API": False,
        "FAB_SECURITY_MANAGER_CLASS": "security.manager.UchetSecurityManager",
        "FAB_API_SWAGGER_UI": mode != "production",
        "FAB_API_MAX_PAGE_SIZE": 100,
        "FAB_BASE_TEMPLATE": "uchet/baselayout.html",
        "AUTH_RATE_LIMITED": True,
        # Failed sign-ins per address (a clinic behind one NAT address is many people)
        # and per account (an account under attack is slowed whatever the address).
        "AUTH_RATE_LIMIT": "100 per minute",
        "AUTH_ACCOUNT_RATE_LIMIT": "5 per 5 minute",
        # The password policy (security.passwords): FAB calls its validator on every
        # form that sets a password.
        "FAB_PASSWORD_COMPLEXITY_ENABLED": True,
        "UCHET_PASSWORD_MIN_LENGTH": int(env.get("UCHET_PASSWORD_MIN_LENGTH", "10")),
        # Users with administration rights give a TOTP code after the password.
        "UCHET_TOTP_FOR_ADMINS": env.get("UCHET_TOTP_FOR_ADMINS", "0") == "1",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": mode != "testing",
        "RATELIMIT_STORAGE_URI": env.get("REDIS_URL", "").strip() or "memory://",
        # --- language ---------------------------------------------------------
        "BABEL_DEFAULT_LOCALE": "ru",
        # One zone for every time a person reads: screens, cabinet, journal, XLSX, PDF.
        "BABEL_DEFAULT_TIMEZONE": _timezone(env),
        "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "translations"),
        "LANGUAGES": {
            "ru": {"flag": "ru", "name": "Русский"},
            "en": {"flag": "gb", "name": "English"},
        },
        "WTF_CSRF_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": mode == "production",
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        # A session idle this long (seconds) ends on its next request.
        "SESSION_IDLE_TIMEOUT": 30 * 60,
        # The largest request body (a price list upload); larger ones get 413.
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    }
    if mode == "testing":
        config["FAB_PASSWORD_HASH_METHOD"] = TESTING_PASSWORD_HASH
        # FAB checks this hash for an unknown login (to take as long as a known one).
        config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"] = (
            "pbkdf2:sha256:1$fBVgwSdSTRbNHpfX$"
            "f2eba3648d2cc0a516533f735aba63fb2bd8be7b7a10f1ea2dce9037a6079e5d"
        )
    return config
