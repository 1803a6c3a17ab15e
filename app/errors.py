"""Error pages and the one place where domain errors become HTTP answers."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from core.errors import ConfirmationRequired, Conflict, Forbidden, NotFound, UchetError

log = logging.getLogger(__name__)

MESSAGES = {
    400: _l("Некорректный запрос"),
    403: _l("Доступ запрещён"),
    404: _l("Страница или запись не найдена"),
    405: _l("Метод не поддерживается"),
    409: _l("Запись уже изменил другой пользователь"),
    413: _l("Файл слишком большой: загрузите файл не больше 20 МБ"),
    429: _l("Слишком много попыток. Подождите немного и повторите"),
    500: _l("Внутренняя ошибка сервера. Мы уже знаем о ней"),
}


#: The HTTP status of each kind of refusal (the first class of its MRO found here).
STATUS: dict[type, int] = {Forbidden: 403, NotFound: 404, Conflict: 409, UchetError: 400}


def status_of(exc: UchetError) -> int:
    """Return the HTTP status a refusal is answered with."""
    return next(STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _answer(code: int, detail: str | None = None):
    message = str(MESSAGES.get(code, _l("Ошибка")))
    # Errors raised before FAB's before_request (CSRF, 405) leave g.user unset,
    # and the layout needs it.
    if not hasattr(g, "user"):
        g.user = current_user
    if _wants_json():
        return jsonify(message=detail or message), code
    return render_template("uchet/error.html", code=code, message=message, detail=detail,
                           appbuilder=current_app.appbuilder), code


def _retry_detail() -> str | None:
    """Return «Повторите через …» for a breached sign-in limit (None for another 429)."""
    from flask_babel import gettext as _

    from security.throttle import retry_after

    seconds = retry_after()
    if seconds is None:
        return None
    if seconds >= 60:
        wait = _("%(minutes)s мин", minutes=(seconds + 59) // 60)
    else:
        wait = _("%(seconds)s с", seconds=seconds)
    return _("Слишком много неудачных попыток входа. Повторите через %(wait)s", wait=wait)


def register_error_handlers(app: Flask) -> None:
    """Answer HTTP errors with Russian pages (or JSON under /api/)."""

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code in (301, 302, 303, 307, 308) or exc.code is None:
            return exc
        detail = exc.description if exc.code in (400, 422) else None
        if exc.code == 429:
            detail = _retry_detail()
        return _answer(exc.code, detail)

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def _no_such_key(exc: Exception):
        # A key too large for the database's integers names no row: not found.
        from app.extensions import db

        db.session.rollback()
        return _answer(404)

    @app.errorhandler(UchetError)
    def _domain(exc: UchetError):
        # Whatever was written before the refusal goes (the boundary rolled back
        # already when the refusal came out of a command).
        from app.extensions import db

        db.session.rollback()
        code = status_of(exc)
        if _wants_json():
            # Only an API caller is told how to confirm by a parameter.
            message = exc.api_message if isinstance(exc, ConfirmationRequired) else str(exc)
            return jsonify(message=message), code
        return _answer(code, str(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        return _answer(500)
