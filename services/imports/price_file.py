"""The price list file («Импорт прейскуранта услуг»): its Russian column headers,
dates and amounts, read from XLSX or CSV into raw rows; a malformed or oversized
file is refused with a Russian message before anything is checked or written."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

from flask_babel import gettext as _

from core.errors import ValidationError

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
# An XLSX is a zip: refuse archives that unpack into far more than any price list (a
# 200,000-row sheet is ~60 MB of XML as openpyxl writes it); openpyxl holds the shared
# strings in memory.
MAX_UNPACKED = 256 * 1024 * 1024
MAX_SHARED_STRINGS = 64 * 1024 * 1024
# calamine allocates the rectangle from A1 to a sheet's farthest cell before it yields the
# first row (a 4 KB sheet with a cell at XFD1048576 asks for 512 GB and aborts the worker):
# every sheet is bounded before calamine sees the book. 26 columns (A-Z) of MAX_ROWS rows
# are at most 5.2 M cells (~170 MB); a price list has 7 columns.
MAX_COLUMNS = 26
_SHEET = re.compile(r"xl/worksheets/[^/]+\.xml", re.IGNORECASE)
# Plain patterns that match nothing in an ordinary sheet (60 MB are scanned in ~1 s): a
# row's or cell's reference (r="7", r="B7", the only attributes named r in a sheet) with
# a two-letter column or a row number of 200,000 and more; and the declared dimension.
_FAR = re.compile(rb'\sr="(?:([A-Z]{2,3})|[A-Z]?)(\d*)')
_FAR_ROW = re.compile(rb'\sr="(?:[A-Z]{2,3}|[A-Z]?(?:[2-9]\d{5}|\d{7}))')
_DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\s+ref="(?:[A-Z]{1,3}\d{1,7}:)?([A-Z]{1,3})(\d{1,7})"')
_CELLS = (b"<c ", b"<c>", b"<c/>")
_CHUNK = 1024 * 1024
HEADER_SEARCH = 10  # the header is the first row naming a column, among the first rows
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

_DMY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009\t")


class ImportRefused(ValidationError):
    """The file cannot be imported; nothing was written. `plan` holds per-row errors, if any."""

    def __init__(self, message: str, *, plan: object | None = None) -> None:
        super().__init__(message)
        self.plan = plan


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
    """Return the data rows of an XLSX or CSV price list.

    Raises ImportRefused (Russian) for an empty, oversized or unreadable file, a
    file without a header row or a required column, or more than `max_rows` rows.
    """
    if not data:
        raise ImportRefused(_("Файл пуст"))
    if len(data) > max_bytes:
        raise ImportRefused(_("Файл больше %(mb)s МБ: разделите его на части",
                              mb=max_bytes // (1024 * 1024)))
    suffix = PurePath(filename or "").suffix.lower()
    if suffix == ".xlsx":
        cells = _xlsx_cells(data)
    elif suffix == ".csv":
        cells = _csv_cells(data)
    else:
        raise ImportRefused(_("Загрузите файл XLSX или CSV"))
    return _rows(cells, max_rows)


def _xlsx_cells(data: bytes) -> Iterator[tuple[int, tuple]]:
    """Yield (row number, cell values) of the first sheet."""
    from python_calamine import CalamineWorkbook

    unreadable = _("Файл не читается как книга Excel (XLSX)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise ImportRefused(unreadable) from None
    strings = sum(m.file_size for m in members if m.filename.endswith("sharedStrings.xml"))
    if sum(m.file_size for m in members) > MAX_UNPACKED or strings > MAX_SHARED_STRINGS:
        raise ImportRefused(unreadable)
    check_sheet_sizes(data)
    try:
        # calamine (Rust) reads a 100,000-row sheet ~10x faster than openpyxl.
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
        rows = sheet.iter_rows()
    except Exception:  # a broken book fails in many ways; all mean "unreadable"
        raise ImportRefused(unreadable) from None
    # Empty cells come back as "": the rest of the import expects None.
    for number, row in enumerate(rows, start=1):
        yield number, tuple(None if cell == "" else cell for cell in row)


def check_sheet_sizes(data: bytes) -> None:
    """Return None when every sheet of the XLSX `data` fits MAX_ROWS rows (and the title
    rows above the header) and MAX_COLUMNS columns.

    Reads each sheet's XML in chunks (never whole, never through an XML parser).
    Raises ImportRefused (Russian) for a larger sheet or an unreadable archive.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.infolist():
                if _SHEET.fullmatch(member.filename):
                    rows, columns = _sheet_extent(archive, member)
                    if rows > MAX_ROWS + HEADER_SEARCH or columns > MAX_COLUMNS:
                        raise ImportRefused(_(
                            "Лист книги слишком велик (%(rows)s строк, %(columns)s столбцов): "
                            "в прейскуранте может быть не больше %(max)s строк и %(cols)s "
                            "столбцов", rows=rows, columns=columns,
                            max=f"{MAX_ROWS:,}".replace(",", " "), cols=MAX_COLUMNS))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError):
        raise ImportRefused(_("Файл не читается как книга Excel (XLSX)")) from None


def _sheet_extent(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> tuple[int, int]:
    """Return (rows, columns) a sheet spans: by the dimension it declares, its far row and
    cell references, and its row elements and cells per row (calamine places a cell
    without a reference next to the previous one).

    zipfile stops at the member's declared size (bounded by MAX_UNPACKED) and raises
    BadZipFile when the data does not match it.
    """
    rows = columns = row_elements = row_cells = 0
    rest = b""
    with archive.open(member) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            text, rest = rest + chunk, b""
            if not text:
                break
            # Cut after the last ">": no tag, attribute or reference is split between
            # two pieces, so nothing is missed or counted twice.
            cut = text.rfind(b">") + 1
            if chunk and cut:
                text, rest = text[:cut], text[cut:]
            found = [_FAR.match(m.group()).groups() for m in _FAR_ROW.finditer(text)]
            for letters, number in found + _DIMENSION.findall(text):
                rows = max(rows, int(number or 0))
                columns = max(columns, _column(letters or b""))
            row_elements += text.count(b"<row ") + text.count(b"<row>")
            pieces = text.split(b"</row>")
            for index, piece in enumerate(pieces):
                # The row at the piece's start may have begun in an earlier piece.
                row_cells = (row_cells if index == 0 else 0) + sum(
                    piece.count(cell) for cell in _CELLS)
                columns = max(columns, row_cells)
    return max(rows, row_elements), columns


def _column(letters: bytes) -> int:
    """Return the 1-based number of a column named like b"XFD"."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise ImportRefused(_("Файл не похож на текстовый CSV"))
    encodings = ("utf-8-sig",) if data.startswith(codecs.BOM_UTF8) else ("utf-8", "cp1251")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(_("Кодировка файла не распознана: сохраните CSV в UTF-8 или Windows-1251"))


def _csv_cells(data: bytes) -> Iterator[tuple[int, tuple]]:
    """Yield (line number, cell values); the delimiter (; or ,) is read off the header line."""
    content = _decode(data)
    delimiter = _delimiter(content)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        for values in reader:
            yield reader.line_num, tuple(values)
    except csv.Error:
        raise ImportRefused(_("Строка %(line)s файла CSV не читается (незакрытые кавычки?)",
                              line=reader.line_num)) from None


def _delimiter(content: str) -> str:
    """Return the CSV delimiter (; or ,) of the header line: the first of the first
    lines that names the service code column, else the first non-empty line (a title
    line above the header has no delimiters to go by)."""
    lines = [line for line in content.splitlines()[:HEADER_SEARCH * 2] if line.strip()]
    wanted = _normal(COLUMNS["service"])
    header = next((line for line in lines[:HEADER_SEARCH] if wanted in _normal(line)),
                  lines[0] if lines else "")
    return ";" if header.count(";") >= header.count(",") and ";" in header else ","


def _normal(header) -> str:
    return " ".join(str(header or "").split()).lower().replace("ё", "е").rstrip(":*")


_KNOWN = {_normal(label): key for key, label in COLUMNS.items()}


def _no_header() -> ImportRefused:
    return ImportRefused(_("В первых %(n)s строках файла нет заголовка со столбцами %(names)s",
                           n=HEADER_SEARCH,
                           names=", ".join(f"«{COLUMNS[k]}»" for k in REQUIRED)))


def _header(values: tuple) -> dict[str, int] | None:
    """Return {column key: index}, or None when no cell names a known column.

    Raises ImportRefused for a repeated column or a missing required one."""
    found: dict[str, int] = {}
    for index, value in enumerate(values):
        key = _KNOWN.get(_normal(value))
        if key is None:
            continue
        if key in found:
            raise ImportRefused(_("Столбец «%(name)s» встречается дважды", name=COLUMNS[key]))
        found[key] = index
    if not found:
        return None
    missing = [f"«{COLUMNS[k]}»" for k in REQUIRED if k not in found]
    if missing:
        raise ImportRefused(_("В файле нет обязательных столбцов: %(names)s",
                              names=", ".join(missing)))
    return found


def _code(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel keeps numeric codes as numbers
    return str(value).strip()


def _rows(cells: Iterable[tuple[int, tuple]], max_rows: int) -> list[RawRow]:
    columns: dict[str, int] | None = None
    rows: list[RawRow] = []
    titles = 0  # non-empty rows above the header (a price list's title, its date...)
    for line, values in cells:
        if not any(v is not None and str(v).strip() for v in values):
            continue
        if columns is None:
            columns = _header(values)
            if columns is None:
                titles += 1
                if titles >= HEADER_SEARCH:
                    raise _no_header()
                continue
            get = _getter(columns)
            continue
        if len(rows) >= max_rows:
            raise ImportRefused(_("В файле больше %(n)s строк: разделите его на части",
                                  n=f"{max_rows:,}".replace(",", " ")))
        service, category, start, end, amount, currency, tax = get(values)
        rows.append(RawRow(line, _code(service), _code(category), start, end, amount,
                           _code(currency), _code(tax)))
    if columns is None:
        raise _no_header() if titles else ImportRefused(_("Файл пуст"))
    if not rows:
        raise ImportRefused(_("В файле нет строк с ценами"))
    return rows


def _getter(columns: dict[str, int]):
    order = [columns.get(key) for key in COLUMNS]

    def get(values: tuple) -> list:
        size = len(values)
        return [values[i] if i is not None and i < size else None for i in order]

    return get


# --- cell values ---------------------------------------------------------------------------


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
