"""Request guards of the REST APIs: CSRF for cookie sessions, sane `q` and key
arguments, and database errors answered without quoting SQL."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation

import prison
from flask import abort, current_app, request, session
from flask_babel import gettext as _
from flask_wtf.csrf import ValidationError as CSRFError
from flask_wtf.csrf import validate_csrf

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_for_cookie_sessions() -> None:
    """FAB exempts APIs from CSRF because token clients cannot forge; a browser's
    cookie session can, so a cookie-authenticated write needs the X-CSRFToken header."""
    # A cookie session needs the token whatever other headers say; a pure token
    # client (no session cookie) cannot be forged by another site.
    if request.method not in UNSAFE_METHODS or "_user_id" not in session:
        return
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except CSRFError:
        abort(400, description=_("Нет или неверен CSRF-токен (заголовок X-CSRFToken)"))


MAX_KEY = 2**63 - 1


def parseable_query() -> None:
    """Refuse a malformed `q` (rison) argument with a 400: FAB only catches the
    parser's own error, and some inputs (e.g. "(((") make it recurse forever.
    A key beyond the databases' integers names no row: 404 (FAB would answer 500)."""
    pk = (request.view_args or {}).get("pk")
    if isinstance(pk, str):
        # Every Uchet table has an integer key: anything else names no row.
        try:
            pk = int(pk)
        except ValueError:
            abort(404)
    if isinstance(pk, int) and abs(pk) > MAX_KEY:
        abort(404)
    raw = request.args.get("q")
    if raw is None:
        return
    try:
        prison.loads(raw)
    except Exception:
        abort(400, description=_("Некорректный параметр запроса q"))


def plain_database_errors(response):
    """FAB answers a database error with a 422 quoting the SQL and its parameters
    (other users' data included); answer in Russian instead, quoting nothing."""
    if response.status_code == 422 and response.is_json:
        data = response.get_json(silent=True) or {}
        message = data.get("message")
        if isinstance(message, str) and message.startswith("Database exception"):
            response.set_data(json.dumps(
                {"message": _("Запись не сохранена: она противоречит другим данным "
                              "(повтор уникального значения или ссылка на несуществующую "
                              "запись)")}, ensure_ascii=False))
    return response


SCREEN_FILTER = re.compile(r"_flt_(\d+)_(.+)")  # FAB: _flt_<filter number>_<column>


def _filter_values() -> list[tuple[str, object]]:
    """Return (column, value) of every filter of the request: a screen's `_flt_N_col`
    arguments and the `filters` of an API's rison `q`."""
    pairs = []
    for key, raw in request.args.items(multi=True):
        match = SCREEN_FILTER.fullmatch(key)
        if match:
            pairs.append((match.group(2), raw))
    raw_q = request.args.get("q")
    if raw_q:
        try:
            query = prison.loads(raw_q)
        except Exception:
            return pairs  # parseable_query answers it
        filters = query.get("filters") if isinstance(query, dict) else None
        for item in filters if isinstance(filters, list) else ():
            if isinstance(item, dict) and isinstance(item.get("col"), str):
                pairs.append((item["col"], item.get("value")))
    return pairs


def _is_number(value) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return Decimal(str(value).strip().replace(",", ".")).is_finite()
    except InvalidOperation:
        return False


def _is_key(value) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.strip().lstrip("-").isdecimal()
        and abs(int(value)) <= MAX_KEY)


def numeric_filters(datamodel) -> None:
    """Refuse with a 400 a filter whose value is not a number on a decimal column,
    or not a key on a link: FAB passes it to the database unconverted and
    PostgreSQL answers with an error (a 500) where SQLite quietly finds nothing."""
    for column, value in _filter_values():
        values = value if isinstance(value, list) else [value]
        if datamodel.is_numeric(column) and not all(_is_number(v) for v in values):
            abort(400, description=_("Значение фильтра «%(v)s» — не число", v=value))
        if datamodel.is_relation(column) and not all(_is_key(v) for v in values):
            abort(400, description=_("Значение фильтра «%(v)s» — не номер записи", v=value))
