"""Serve Uchet for the browser tests: `python -m tests.browser.server DB_FILE`.

Migrates a fresh SQLite database, writes the permissions and preset roles (what
`flask uchet sync` does) and the demo data (`flask demo load`), then serves the app
with werkzeug on a free port of 127.0.0.1 and prints `UCHET_READY <port>` on
stdout. Forms carry CSRF tokens as in production. Runs until it is terminated.
"""

from __future__ import annotations

import os
import sys

os.environ["UCHET_ENV"] = "testing"


def build_app(database_file: str):
    """Return the app on a freshly migrated database with permissions and demo data."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from demo.loader import load_demo
    from security.sync import sync_all

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database_file}",
        # Errors render the app's own error page, as in production, not a traceback.
        "TESTING": False,
        "WTF_CSRF_ENABLED": True,
        # The tests sign in a few dozen times from one address within minutes.
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "browser-tests-secret-key-0123456789abcdef",
        # The browser keeps the static files for the session instead of asking again
        # for each of ~25 on every page (a third of the walk's time went to those 304s).
        "SEND_FILE_MAX_AGE_DEFAULT": 3600,
    })
    with app.app_context():
        upgrade()
        sync_all(db.session, app.appbuilder)
        db.session.commit()
        load_demo(db.session)
        db.session.remove()
    return app


def main(argv: list[str]) -> None:
    """Build the app and serve it until terminated."""
    from werkzeug.serving import make_server

    app = build_app(argv[1])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"UCHET_READY {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv)
