"""Reading an import file (XLSX or CSV) into rows of cells, within bounds.

Every import reads through here: the size, row and sheet bounds, the zip-bomb guard,
the encoding (UTF-8 or Windows-1251) and delimiter (; or ,) detection, the header row
found among the first rows by its Russian headers or their aliases. A malformed or
oversized file is refused with a Russian message (`ImportRefused`) before any row is
checked or written.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from flask_babel import gettext as _

from core.errors import ValidationError

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
# An XLSX is a zip: refuse archives that unpack into far more than any import file (a
# 200,000-row sheet is ~60 MB of XML as openpyxl writes it); openpyxl holds the shared
# strings in memory.
MAX_UNPACKED = 256 * 1024 * 1024
MAX_SHARED_STRINGS = 64 * 1024 * 1024
# calamine allocates the rectangle from A1 to a sheet's farthest cell before it yields the
# first row (a 4 KB sheet with a cell at XFD1048576 asks for 512 GB and aborts the worker):
# every sheet is bounded before calamine sees the book. 26 columns (A-Z) of MAX_ROWS rows
# are at most 5.2 M cells (~170 MB); the widest import has 14 columns.
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
# A text cell that a spreadsheet would run as a formula when the value is exported again
# (CSV/formula injection): refused, never stored. Numbers like "-5" are not text.
_FORMULA = re.compile(r"[=+@\-\t\r]")
_NUMERIC = re.compile(r"[+-]?[\d\s.,]+")


class ImportRefused(ValidationError):
    """The file cannot be imported; nothing was written. `plan` holds per-row errors, if any."""

    def __init__(self, message: str, *, plan: object | None = None) -> None:
        super().__init__(message)
        self.plan = plan


@dataclass(frozen=True)
class Column:
    """A column of an import file: its key, its Russian header, other headers accepted
    for it (aliases), whether it must be present, and a hint shown in the template."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    hint: str = ""
    names: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(normal(n) for n in (self.header,
                                                                       *self.aliases)))


def normal(header) -> str:
    """Return a header as compared: spaces collapsed, lower case, ё as е, no trailing : or *."""
    return " ".join(str(header or "").split()).lower().replace("ё", "е").rstrip(":*")


def looks_like_formula(value) -> bool:
    """Return True for a text cell that a spreadsheet would evaluate (=, +, -, @ first)."""
    return (isinstance(value, str) and bool(value) and bool(_FORMULA.match(value))
            and not _NUMERIC.fullmatch(value))


# --- the file ------------------------------------------------------------------------------


def cells(filename: str, data: bytes, *, max_bytes: int = MAX_BYTES,
          header_hint: Sequence[str] = ()) -> Iterator[tuple[int, tuple]]:
    """Yield (row number, cell values) of an XLSX's first sheet or a CSV file.

    Raises ImportRefused (Russian) for an empty, oversized or unreadable file.
    """
    if not data:
        raise ImportRefused(_("Файл пуст"))
    if len(data) > max_bytes:
        raise ImportRefused(_("Файл больше %(mb)s МБ: разделите его на части",
                              mb=max_bytes // (1024 * 1024)))
    suffix = PurePath(filename or "").suffix.lower()
    if suffix == ".xlsx":
        return _xlsx_cells(data)
    if suffix == ".csv":
        return _csv_cells(data, header_hint)
    raise ImportRefused(_("Загрузите файл XLSX или CSV"))


def estimate_rows(filename: str, data: bytes) -> int:
    """Return about how many rows the file holds (for a progress bar): CSV lines, or
    the extent of an XLSX's sheets. Never raises."""
    if PurePath(filename or "").suffix.lower() == ".csv":
        return data.count(b"\n") + 1
    try:
        return check_sheet_sizes(data)
    except ImportRefused:
        return 0


def _xlsx_cells(data: bytes) -> Iterator[tuple[int, tuple]]:
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
        # calamine (Rust) reads a 100,000-row sheet ~10x faster than openpyxl; a formula
        # cell comes back as its cached value: the formula is never read or evaluated.
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
        rows = sheet.iter_rows()
    except Exception:  # a broken book fails in many ways; all mean "unreadable"
        raise ImportRefused(unreadable) from None
    # Empty cells come back as "": the rest of the import expects None.
    for number, row in enumerate(rows, start=1):
        yield number, tuple(None if cell == "" else cell for cell in row)


def check_sheet_sizes(data: bytes) -> int:
    """Return the rows the largest sheet of the XLSX `data` spans, when every sheet fits
    MAX_ROWS rows (and the title rows above the header) and MAX_COLUMNS columns.

    Reads each sheet's XML in chunks (never whole, never through an XML parser).
    Raises ImportRefused (Russian) for a larger sheet or an unreadable archive.
    """
    largest = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.infolist():
                if _SHEET.fullmatch(member.filename):
                    rows, columns = _sheet_extent(archive, member)
                    if rows > MAX_ROWS + HEADER_SEARCH or columns > MAX_COLUMNS:
                        raise ImportRefused(_(
                            "Лист книги слишком велик (%(rows)s строк, %(columns)s столбцов): "
                            "в файле импорта может быть не больше %(max)s строк и %(cols)s "
                            "столбцов", rows=rows, columns=columns,
                            max=f"{MAX_ROWS:,}".replace(",", " "), cols=MAX_COLUMNS))
                    largest = max(largest, rows)
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError):
        raise ImportRefused(_("Файл не читается как книга Excel (XLSX)")) from None
    return largest


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


def _encoding(data: bytes) -> str:
    """Return the CSV's encoding: UTF-8 (with or without BOM) or Windows-1251.

    Checks UTF-8 incrementally (no decoded copy of the file). Raises ImportRefused."""
    if b"\x00" in data[:4096]:
        raise ImportRefused(_("Файл не похож на текстовый CSV"))
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), _CHUNK):
            decoder.decode(data[start:start + _CHUNK])
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # Windows-1251 leaves one byte (0x98) undefined: such a file is neither.
    if b"\x98" in data:
        raise ImportRefused(_("Кодировка файла не распознана: сохраните CSV в UTF-8 или "
                              "Windows-1251"))
    return "cp1251"


def _csv_cells(data: bytes, header_hint: Sequence[str]) -> Iterator[tuple[int, tuple]]:
    """Yield (line number, cell values); the delimiter (; or ,) is read off the header
    line. Decodes as it reads (the file is never held decoded whole)."""
    encoding = _encoding(data)
    head = data[:64 * 1024].decode(encoding, errors="ignore")
    delimiter = _delimiter(head, header_hint)
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        for values in reader:
            yield reader.line_num, tuple(values)
    except csv.Error:
        raise ImportRefused(_("Строка %(line)s файла CSV не читается (незакрытые кавычки?)",
                              line=reader.line_num)) from None


def _delimiter(content: str, header_hint: Sequence[str]) -> str:
    """Return the CSV delimiter (; or ,) of the header line: the first of the first
    lines that names a known column, else the first non-empty line (a title line
    above the header has no delimiters to go by)."""
    lines = [line for line in content.splitlines()[:HEADER_SEARCH * 2] if line.strip()]
    header = next((line for line in lines[:HEADER_SEARCH]
                   if any(h and h in normal(line) for h in header_hint)),
                  lines[0] if lines else "")
    return ";" if header.count(";") >= header.count(",") and ";" in header else ","


# --- rows ----------------------------------------------------------------------------------


def _no_header(columns: Sequence[Column]) -> ImportRefused:
    return ImportRefused(_("В первых %(n)s строках файла нет заголовка со столбцами %(names)s",
                           n=HEADER_SEARCH,
                           names=", ".join(f"«{c.header}»" for c in columns if c.required)))


def header(values: tuple, columns: Sequence[Column]) -> dict[str, int] | None:
    """Return {column key: index}, or None when no cell names a known column.

    Raises ImportRefused for a repeated column or a missing required one."""
    known = {name: c for c in columns for name in c.names}
    found: dict[str, int] = {}
    for index, value in enumerate(values):
        column = known.get(normal(value))
        if column is None:
            continue
        if column.key in found:
            raise ImportRefused(_("Столбец «%(name)s» встречается дважды", name=column.header))
        found[column.key] = index
    if not found:
        return None
    missing = [f"«{c.header}»" for c in columns if c.required and c.key not in found]
    if missing:
        raise ImportRefused(_("В файле нет обязательных столбцов: %(names)s",
                              names=", ".join(missing)))
    return found


def _empty(values: tuple) -> bool:
    """Return True for a row without a cell that says anything."""
    try:
        # A CSV row is all texts: one join in C instead of a test per cell.
        return not "".join(values).strip()
    except TypeError:  # an XLSX row: numbers, dates, None
        return not any(v is not None and str(v).strip() for v in values)


def rows(source: Iterable[tuple[int, tuple]], columns: Sequence[Column], *,
         max_rows: int = MAX_ROWS, nothing: str | None = None) -> Iterator[tuple[int, list]]:
    """Yield (line, values in the order of `columns`) of the data rows below the header.

    Raises ImportRefused (while iterating) for a missing header, more than `max_rows`
    rows, or no data row at all (`nothing` is that message)."""
    found: dict[str, int] | None = None
    count = titles = 0  # titles: non-empty rows above the header (a title, a date...)
    order: list[int | None] = []
    for line, values in source:
        if _empty(values):
            continue
        if found is None:
            found = header(values, columns)
            if found is None:
                titles += 1
                if titles >= HEADER_SEARCH:
                    raise _no_header(columns)
                continue
            order = [found.get(c.key) for c in columns]
            continue
        if count >= max_rows:
            raise ImportRefused(_("В файле больше %(n)s строк: разделите его на части",
                                  n=f"{max_rows:,}".replace(",", " ")))
        count += 1
        size = len(values)
        yield line, [values[i] if i is not None and i < size else None for i in order]
    if found is None:
        raise _no_header(columns) if titles else ImportRefused(_("Файл пуст"))
    if not count:
        raise ImportRefused(nothing or _("В файле нет строк с данными"))


def read(filename: str, data: bytes, columns: Sequence[Column], *,
         max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS,
         nothing: str | None = None) -> Iterator[tuple[int, list]]:
    """Yield the data rows of the file: (line, values in the order of `columns`).

    Raises ImportRefused (Russian) for a file that cannot be read (see `cells`, `rows`)."""
    hint = [n for c in columns if c.required for n in c.names]
    return rows(cells(filename, data, max_bytes=max_bytes, header_hint=hint), columns,
                max_rows=max_rows, nothing=nothing)


def template(columns: Sequence[Column], title: str) -> bytes:
    """Return an XLSX with the header row of `columns` (bold, widths) and a hint row as a
    comment on each header cell: the downloadable template of an import."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = Font(bold=True)
        note = column.hint
        if column.required:
            note = (_("Обязательный столбец") + (". " + note if note else ""))
        if note:
            cell.comment = Comment(note, "Uchet")
        sheet.column_dimensions[cell.column_letter].width = max(14, len(column.header) + 4)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
