"""The Uchet application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import BASE_DIR, load_config


def _folding(fold):
    """Return an SQLite function applying `fold` to text (other values unchanged)."""
    return lambda value: fold(value) if isinstance(value, str) else value


def _sqlite_connect(dbapi_connection, _record) -> None:
    if not type(dbapi_connection).__module__.startswith("sqlite3"):
        return
    # SQLite ignores FOREIGN KEY clauses (and ON DELETE CASCADE) unless asked.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # SQLite's lower() and upper() (and so ilike) fold ASCII only: «ромашка» would not
    # find «Ромашка». Python's fold every alphabet; NULL stays NULL.
    for name, fold in (("lower", str.lower), ("upper", str.upper)):
        dbapi_connection.create_function(name, 1, _folding(fold), deterministic=True)
    # Let SQLAlchemy, not pysqlite, decide where transactions begin, so that
    # SAVEPOINTs and transactional DDL behave as on PostgreSQL.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build a configured Uchet app.

    `overrides` is applied over the configuration read from the environment
    (tests pass their database URL here). Raises config.ConfigError naming the
    setting when the environment is incomplete or malformed.
    """
    from flask_appbuilder import AppBuilder

    from app import translations_fast
    from app.extensions import csrf, db, migrate

    config = load_config()
    if overrides:
        config.update(overrides)
    app = Flask(
        __name__,
        instance_path=config["INSTANCE_DIR"],
        template_folder=str(BASE_DIR / "app" / "templates"),
        static_folder=str(BASE_DIR / "app" / "static"),
        static_url_path="/static",
    )
    app.config.update(config)

    if not event.contains(Engine, "connect", _sqlite_connect):
        event.listen(Engine, "connect", _sqlite_connect)
        event.listen(Engine, "begin", _sqlite_begin)

    import models  # noqa: F401  - registers every table on the metadata
    from services import rollups
    from services.admin import journal, orgtree, security_log
    from services.contracts import patients
    from services.vouchers import totals as voucher_totals

    journal.install()
    security_log.install_hooks()
    orgtree.install()
    patients.install()
    voucher_totals.install()
    rollups.install()  # after the totals: the rollups read them

    from security.passwords import check_password

    app.config.setdefault("FAB_PASSWORD_COMPLEXITY_VALIDATOR", check_password)
    db.init_app(app)
    from app import replica

    replica.install(app)  # the statistics' and exports' engine, when UCHET_REPLICA_URL is set
    csrf.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))

    from security.catalogue import load_catalogue

    load_catalogue()  # a malformed catalogue stops start-up, naming the right

    from views import load_all
    from views.home import HomeView
    from views.registry import install

    load_all()
    from security.manager import UchetSecurityManager
    from views.admin.totp_api import SecurityApi
    from views.admin.users import (
        ResetMyPasswordView,
        UchetResetPasswordView,
        UchetUserInfoEditView,
        UserView,
    )

    UchetSecurityManager.use_views(users=UserView, reset_password=UchetResetPasswordView,
                                   user_info_edit=UchetUserInfoEditView,
                                   reset_my_password=ResetMyPasswordView,
                                   security_api=SecurityApi)
    translations_fast.install()
    with app.app_context():
        appbuilder = AppBuilder(indexview=HomeView, base_template="uchet/baselayout.html")
        appbuilder.init_app(app, db.session)
        install(appbuilder)
    from views.workplaces import looks

    looks.install(app)
    from views import list_rows, menu_cache

    menu_cache.install(app)
    list_rows.install(app)

    from app import startup
    from app.cli import register_cli
    from app.errors import register_error_handlers
    from security import effective, rights_cache, sessions

    startup.install(app)
    sessions.install(app)
    rights_cache.install()
    from services.admin import sessions as session_ends

    session_ends.install(app)
    security_log.install(app)
    from views.admin import totp

    totp.install(app)
    # Rights are looked up once per request (resolved once per change of them, by
    # security.rights_cache); never carry the request's copy into the next one.
    app.before_request(effective.forget)
    register_error_handlers(app)
    register_cli(app)
    from app import headers

    headers.install(app)
    return app
