"""Start-up checks that need the database, run before the first request a
worker serves (CLI commands such as `flask db upgrade` must still work)."""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app
from sqlalchemy.exc import OperationalError, ProgrammingError

log = logging.getLogger(__name__)
_lock = threading.Lock()


def _problems() -> list[str]:
    from app.extensions import db
    from security.sync import check_stored_rights

    try:
        return check_stored_rights(db.session)
    except (OperationalError, ProgrammingError):
        # Not migrated yet: nothing stored, nothing to contradict the catalogue.
        db.session.rollback()
        return []


def check_once() -> tuple[int, str] | None:
    """Return (503, message) while stored rights contradict the catalogue, else None.

    The result is computed once per process: a worker either serves with rights
    that fit the catalogue or refuses every request, naming the bad rights.
    """
    state = current_app.extensions.setdefault("uchet_startup", {})
    if "problems" not in state:
        with _lock:
            if "problems" not in state:
                state["problems"] = _problems()
                for problem in state["problems"]:
                    log.error("stored rights do not fit the catalogue: %s", problem)
    if state["problems"]:
        return 503, ("Права ролей в базе не соответствуют каталогу: "
                     + "; ".join(state["problems"]) + ". Запустите `flask uchet check`.")
    return None


def install(app: Flask) -> None:
    """Refuse to serve while the stored rights do not fit the catalogue."""

    @app.before_request
    def _guard():
        verdict = check_once()
        if verdict is not None:
            code, message = verdict
            return message, code, {"Content-Type": "text/plain; charset=utf-8"}
        return None
