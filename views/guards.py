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


# Every Uchet table (and FAB's) has an INTEGER key: a bigger number names no row,
# and PostgreSQL refuses to compare it with the column (a 500) where SQLite finds nothing.
MAX_KEY = 2**31 - 1
#: The last page an API list may ask for: beyond it the OFFSET overflows.
MAX_PAGE = 100_000


def _nul_in(value) -> bool:
    """Return True when a NUL character is anywhere in `value` (text, list, dict)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_nul_in(k) or _nul_in(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_nul_in(v) for v in value)
    return False


def no_nul_characters() -> None:
    """Refuse with a 400 a request whose arguments, form or JSON hold a NUL
    character: PostgreSQL cannot store or compare text with one (a 500)."""
    sources = [list(request.args.items(multi=True)), list(request.form.items(multi=True))]
    if request.is_json:
        sources.append(request.get_json(silent=True))
    if any(_nul_in(source) for source in sources):
        abort(400, description=_("Недопустимый символ в запросе (NUL)"))


def valid_key() -> None:
    """A key in the URL that is not an integer of the keys' range names no row: 404."""
    pk = (request.view_args or {}).get("pk")
    if isinstance(pk, str):
        try:
            pk = int(pk)
        except ValueError:
            abort(404)
    if isinstance(pk, int) and abs(pk) > MAX_KEY:
        abort(404)


def parseable_query() -> None:
    """Refuse a malformed `q` (rison) argument with a 400: FAB only catches the
    parser's own error, and some inputs (e.g. "(((") make it recurse forever.
    A key beyond the databases' integers names no row: 404 (FAB would answer 500).
    A page below 0 or beyond MAX_PAGE is a 400 (FAB hands it to OFFSET)."""
    valid_key()
    raw = request.args.get("q")
    if raw is None:
        return
    try:
        query = prison.loads(raw)
    except Exception:
        abort(400, description=_("Некорректный параметр запроса q"))
    if not isinstance(query, dict):
        return
    for name in ("page", "page_size"):
        value = query.get(name)
        if value is None:
            continue
        if not _is_int(value) or value < (1 if name == "page_size" else 0) or value > MAX_PAGE:
            abort(400, description=_("Некорректный номер или размер страницы"))


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


def _filter_values() -> list[tuple[str, str | None, object]]:
    """Return (column, operation, value) of every filter of the request: a screen's
    `_flt_N_col` arguments (no operation name) and the `filters` of an API's rison `q`."""
    pairs = []
    for key, raw in request.args.items(multi=True):
        match = SCREEN_FILTER.fullmatch(key)
        if match:
            pairs.append((match.group(2), None, raw))
    raw_q = request.args.get("q")
    if raw_q:
        try:
            query = prison.loads(raw_q)
        except Exception:
            return pairs  # parseable_query answers it
        filters = query.get("filters") if isinstance(query, dict) else None
        for item in filters if isinstance(filters, list) else ():
            if isinstance(item, dict) and isinstance(item.get("col"), str):
                pairs.append((item["col"], item.get("opr"), item.get("value")))
    return pairs


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    """Return True for a finite number a database can compare (text or JSON number)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return False
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return False
    # 1e1000000 is finite, but overflows PostgreSQL's numeric.
    return number.is_finite() and abs(number.adjusted()) <= 100


def _is_key(value) -> bool:
    """Return True for an integer (or its text) within the keys' range."""
    if isinstance(value, str) and value.strip().lstrip("-").isdecimal():
        value = int(value)
    return _is_int(value) and abs(value) <= MAX_KEY


#: FAB's filter operations that take a list of values.
LIST_OPERATIONS = frozenset({"in", "not_in", "rel_m_m"})
TRUE_WORDS = frozenset({"y", "yes", "true", "1", "on", "да"})
FALSE_WORDS = frozenset({"n", "no", "false", "0", "off", "нет"})


def as_boolean(value) -> bool | None:
    """Return the boolean a filter's value means ("y", "true", "да", 1...), or None."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


def _refusal(datamodel, column: str, value) -> str | None:
    """Return why `value` cannot filter `column` (a Russian message), or None.

    Each type is checked as PostgreSQL would refuse it: a boolean compared with
    text, an integer beyond INTEGER, text that is not a number, a list where one
    value is expected."""
    if datamodel.is_relation(column):
        if not _is_key(value):
            return _("Значение фильтра «%(v)s» — не номер записи", v=value)
    elif datamodel.is_boolean(column):
        if as_boolean(value) is None:
            return _("Значение фильтра «%(v)s» — не «да» и не «нет»", v=value)
    elif datamodel.is_integer(column):
        # Text that is no integer finds nothing (FAB reads it as None); an integer
        # beyond the column's range would reach PostgreSQL.
        if _is_int(value) or isinstance(value, float) or (
                isinstance(value, str) and value.strip().lstrip("-").isdecimal()):
            if abs(float(value)) > MAX_KEY:
                return _("Значение фильтра «%(v)s» — слишком большое число", v=value)
        elif not isinstance(value, str):
            return _("Значение фильтра «%(v)s» — не целое число", v=value)
    elif datamodel.is_numeric(column) or datamodel.is_float(column):
        if not _is_number(value):
            return _("Значение фильтра «%(v)s» — не число", v=value)
    elif not isinstance(value, str):
        return _("Значение фильтра «%(v)s» — не текст", v=value)
    return None


def typed_filters(datamodel) -> None:
    """Refuse with a 400 a filter whose value the column's type cannot hold (see
    `_refusal`): FAB passes it to the database unconverted and PostgreSQL answers
    with an error (a 500) where SQLite quietly finds nothing."""
    for column, operation, value in _filter_values():
        values = value if isinstance(value, list) else [value]
        if (isinstance(value, list) and operation not in LIST_OPERATIONS) or any(
                isinstance(v, (list, dict)) for v in values):
            abort(400, description=_("Некорректный фильтр списка"))
        for one in values:
            if operation is None and one == "":
                continue  # an empty box of the search form: the filter finds nothing
            reason = _refusal(datamodel, column, one)
            if reason:
                abort(400, description=reason)
