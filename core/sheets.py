"""Cells of the spreadsheets Uchet writes (screens' XLSX and CSV, invoice registers,
the export to accounting): text a user typed never becomes a formula.

A text that starts with one of FORMULA_START is a formula to Excel and LibreOffice
(= + - @, and tab / CR, which some versions skip before one; the full-width forms too):
a user's «=HYPERLINK(...)» or «=cmd|...» in a name must not run in whoever opens the
file (OWASP «CSV injection»).
"""

from __future__ import annotations

FORMULA_START = tuple("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def formula_like(value) -> bool:
    """Return True for a text a spreadsheet would read as a formula; never for numbers
    and dates, which go out as themselves."""
    return isinstance(value, str) and value.startswith(FORMULA_START)


def text_cell(sheet, value: str):
    """Return a write-only string cell (t="s", never a formula) holding `value` as typed."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    return cell


def plain_cell(sheet, value):
    """Return `value` for a write-only sheet: formula-like text as a text cell, a date
    as a ДД.ММ.ГГГГ cell, anything else as itself."""
    from openpyxl.cell import WriteOnlyCell

    if formula_like(value):
        return text_cell(sheet, value)
    if hasattr(value, "strftime"):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = "DD.MM.YYYY"
        return cell
    return value
