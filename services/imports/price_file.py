"""The price list file («Импорт прейскуранта услуг»): its Russian column headers,
dates and amounts, read from XLSX or CSV into raw rows; a malformed or oversized
file is refused with a Russian message before anything is checked or written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _

from services.imports.framework import reader
from services.imports.framework.reader import (  # noqa: F401  - the price import's names
    HEADER_SEARCH,
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_SHARED_STRINGS,
    MAX_UNPACKED,
    ImportRefused,
    check_sheet_sizes,
)
from services.imports.framework.values import _amount, _blank, _code, _date, shown  # noqa: F401

DEFAULT_CURRENCY = "RUB"
MAX_AMOUNT = Decimal(10) ** 12  # Numeric(14, 2)
CENT = Decimal("0.01")
OPEN_END = dt.date.max

# The file's column headers: a data format, the same whatever the interface language.
COLUMNS = {
    "service": "Код услуги",
    "category": "Категория цен",
    "valid_from": "Действует с",
    "valid_to": "Действует по",
    "amount": "Цена",
    "currency": "Валюта",
    "tax": "Налог",
}
REQUIRED = ("service", "category", "valid_from", "amount")
FILE_COLUMNS = tuple(reader.Column(key, label, required=key in REQUIRED)
                     for key, label in COLUMNS.items())



@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row of the file as read: codes as trimmed text, other cells as found."""

    line: int
    service: str
    category: str
    valid_from: object
    valid_to: object
    amount: object
    currency: str
    tax: str


# --- reading the file ----------------------------------------------------------------------


def parse(filename: str, data: bytes, *, max_bytes: int = MAX_BYTES,
          max_rows: int = MAX_ROWS) -> list[RawRow]:
    """Return the data rows of an XLSX or CSV price list (read by the import framework).

    Raises ImportRefused (Russian) for an empty, oversized or unreadable file, a
    file without a header row or a required column, or more than `max_rows` rows.
    """
    return [RawRow(line, _code(service), _code(category), start, end, amount,
                   _code(currency), _code(tax))
            for line, (service, category, start, end, amount, currency, tax)
            in reader.read(filename, data, FILE_COLUMNS, max_bytes=max_bytes,
                           max_rows=max_rows, nothing=_("В файле нет строк с ценами"))]
