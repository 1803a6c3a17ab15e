"""Cell values of an import file as people type them: codes, Russian dates (ДД.ММ.ГГГГ,
ISO, Excel dates and serials), amounts with a comma or spaces between thousands."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

_DMY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009\t")


def _code(value) -> str:
    """Return a code cell as trimmed text (a numeric Excel code without \".0\")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel keeps numeric codes as numbers
    return str(value).strip()


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _date(value) -> dt.date | None:
    """Return the date of a cell (dd.mm.yyyy, ISO, an Excel date or serial), else None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        from openpyxl.utils.datetime import from_excel

        try:
            return from_excel(value).date() if 1 <= value < 2_958_466 else None
        except (ValueError, OverflowError, AttributeError):
            return None
    text_value = str(value).strip()
    match = _DMY.fullmatch(text_value)
    parts = (match.group(3), match.group(2), match.group(1)) if match else None
    if parts is None:
        match = _ISO.fullmatch(text_value)
        parts = match.groups() if match else None
    if parts is None:
        return None
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def _amount(value) -> Decimal | None:
    """Return the number in a cell (comma or dot decimal, spaces between thousands), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    text_value = str(value).translate(_SPACES).replace(",", ".")
    if not _NUMBER.fullmatch(text_value):
        return None
    try:
        return Decimal(text_value)
    except InvalidOperation:
        return None


def shown(value) -> str:
    """Return a raw cell as the user typed it (dates as dd.mm.yyyy)."""
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def text(value) -> str:
    """Return a text cell trimmed (numbers as typed, an integral float without ".0")."""
    return _code(value)


def date(value) -> dt.date | None:
    """Return the date of a cell, else None (see `_date`)."""
    return _date(value)


def amount(value) -> Decimal | None:
    """Return the number of a cell, else None (see `_amount`)."""
    return _amount(value)


def blank(value) -> bool:
    """Return True for an empty cell."""
    return _blank(value)
