"""One declaration per reference book: from a `RefBook` come its CRUD screen,
REST API, menu entry, permissions (through its governing right), search and
filters, XLSX/CSV export, labels (read from the model's columns), its demo rows
(`samples`, loaded by the demo) and its rows in the rights matrix test.

    register_refbook(RefBook(Tax, "refbook.taxes", "Taxes", "refbooks",
                             columns=("code", "name", "rate", "active"),
                             samples=({"code": "VAT20", "name": "НДС 20%", "rate": 20},)))
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from flask import Response
from flask_appbuilder import expose, has_access
from flask_appbuilder.urltools import get_filter_args, get_order_args
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect as sa_inspect

from core.sheets import formula_like, text_cell
from services.dates import show_date, show_datetime, to_local
from services.refbooks.rules import check_references, check_unique, check_unique_together
from views.api import UchetModelRestApi
from views.base import UchetModelView
from views.datamodel import UchetInterface
from views.registry import REGISTRY, register

EXPORT_LIMIT = 100_000


def column_labels(model: type) -> dict[str, object]:
    """Return {attribute: label} from the `info["label"]` of columns and relationships."""
    mapper = sa_inspect(model)
    labels: dict[str, object] = {}
    for attr in mapper.column_attrs:
        info = attr.columns[0].info
        if "label" in info:
            labels[attr.key] = info["label"]
    for rel in mapper.relationships:
        if "label" in rel.info:
            labels[rel.key] = rel.info["label"]
    return labels


class RefBookRules:
    """Save and delete rules every reference book shares; `validate` adds its own."""

    validate: Callable | None = None
    check_delete_rule: Callable | None = None

    def check_write(self, item) -> None:
        # Scope first: hidden values and unseen links are put back before the rules
        # read them, and a row outside the scope learns nothing from a rule's message.
        super().check_write(item)
        check_unique(self._session(), item)
        check_unique_together(self._session(), item)
        if self.validate is not None:
            type(self).validate(self._session(), item)

    def check_delete(self, item) -> None:
        # Scope first: a row the user only reads must not tell him, through a
        # rule's message, what refers to it.
        super().check_delete(item)
        if self.check_delete_rule is not None:
            self.check_delete_rule(self._session(), item)
        check_references(self._session(), item)


class RefBookView(RefBookRules, UchetModelView):
    """A reference book screen: CRUD plus export of what the list shows."""

    list_template = "uchet/refbook_list.html"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.extra_args = {**(self.extra_args or {}), "export_view": type(self).__name__}

    @expose("/export/<fmt>")
    @has_access
    def export(self, fmt: str):
        """Download the filtered, scoped rows as XLSX or CSV (hidden fields left out)."""
        if fmt not in ("xlsx", "csv"):
            return Response(str(_l("Неизвестный формат выгрузки")), status=400)
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        hidden = self._hidden()
        from security.fields import refuse_hidden_arguments

        refuse_hidden_arguments(hidden, self._request_filter_names())
        order_column, order_direction = get_order_args().get(self.__class__.__name__, ("", ""))
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        joined = self._filters.get_joined_filters(self._base_filters)
        _count, items = self.datamodel.query(joined, order_column, order_direction,
                                             page=0, page_size=EXPORT_LIMIT)
        columns = [c for c in self.list_columns if c.split(".")[0] not in hidden]
        header = [str(self.label_columns.get(c, c)) for c in columns]
        rows = [[_plain(self.formatters_columns.get(c), getattr(item, c, None))
                 for c in columns] for item in items]
        name = f"{self.__class__.__name__.removesuffix('View').lower()}.{fmt}"
        if fmt == "xlsx":
            body, mime = _xlsx(header, rows, self.list_title), XLSX_MIME
        else:
            body, mime = _csv(header, rows), CSV_MIME
        return Response(body, mimetype=mime,
                        headers={"Content-Disposition": f"attachment; filename={name}"})


class RefBookApi(RefBookRules, UchetModelRestApi):
    """A reference book's REST API."""


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"


def _plain(formatter, value):
    # Numbers and dates go out as themselves (Excel sums them); the rest as shown.
    if isinstance(value, (Decimal, int, float, dt.date)) and not isinstance(value, bool):
        return value
    if formatter is not None:
        value = formatter(value)
    if value is None:
        return ""
    return value if isinstance(value, (int, float, str)) else str(value)


def _csv_value(value):
    # Russian Excel reads 01.12.2026 as a date; 2026-12-01 it keeps as text.
    if isinstance(value, dt.datetime):
        return show_datetime(value)
    if formula_like(value):
        return "'" + value  # the apostrophe makes it text; Excel does not show it
    return show_date(value) if isinstance(value, dt.date) else value


def _csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    # Semicolons and a BOM: what Russian Excel opens without an import dialog.
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_csv_value(value) for value in header])
    writer.writerows([[_csv_value(value) for value in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_NOT_IN_SHEET_TITLE = re.compile(r"[\\/*?:\[\]]")


def _xlsx_cell(sheet, value):
    """Return `value` as a cell; a date reads ДД.ММ.ГГГГ in Excel, a date-time
    ДД.ММ.ГГГГ ЧЧ:ММ in the configured zone (Excel has no zones)."""
    from openpyxl.cell import WriteOnlyCell

    if formula_like(value):
        return text_cell(sheet, value)
    if not isinstance(value, dt.date):
        return value
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, to_local(value))
        cell.number_format = "DD.MM.YYYY HH:MM"
    else:
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = "DD.MM.YYYY"
    return cell


def _xlsx(header: list[str], rows: list[list], title: str = "") -> bytes:
    """Return an XLSX workbook of one sheet named `title` (not openpyxl's «Sheet»)."""
    return xlsx_book([(title, header, rows)])


def xlsx_book(sheets: list[tuple[object, list[str], list[list]]]) -> bytes:
    """Return an XLSX workbook with one sheet per (title, header, rows): the header in
    bold on the first row, kept in view when the rows scroll."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    for title, header, rows in sheets:
        name = _NOT_IN_SHEET_TITLE.sub(" ", str(title or _l("Данные"))).strip()[:31]
        sheet = book.create_sheet(title=name or str(_l("Данные")))
        sheet.freeze_panes = "A2"
        head = []
        for value in header:
            cell = WriteOnlyCell(sheet, str(value))
            cell.font = Font(bold=True)
            if formula_like(value):
                cell.data_type = "s"
            head.append(cell)
        sheet.append(head)
        for row in rows:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class RefBook:
    """The declaration of one reference book."""

    model: type
    right: str
    name: str  # stable menu name (FAB menu permission key)
    category: str
    columns: tuple[str, ...]
    edit_columns: tuple[str, ...] | None = None
    search_columns: tuple[str, ...] | None = None
    label: object = None
    icon: str = "fa-book"
    base_filters: tuple = ()
    field_rights: Mapping[str, str] = field(default_factory=dict)
    formatters: Mapping[str, Callable] = field(default_factory=dict)
    validate: Callable | None = None
    #: (session, item) -> None, raising UchetError when the row may not be deleted.
    delete_rule: Callable | None = None
    order: tuple[str, str] = ("code", "asc")
    view_base: type = RefBookView
    api_base: type = RefBookApi
    extra: Mapping[str, object] = field(default_factory=dict)
    stem: str | None = None  # class-name stem when one model has several books
    permission_rights: Mapping[str, str] = field(default_factory=dict)
    #: Relationship paths the list loads up front for its computed columns ("a.b").
    eager: tuple[str, ...] = ()
    #: Of an `eager` path, the only columns a list page reads ({"lines": ("state",)}):
    #: a card or a form reads the whole rows.
    eager_columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: NOT NULL columns a form may leave empty: a save rule fills them in.
    optional: tuple[str, ...] = ()
    #: Computed attributes shown on the screen after `columns` (not sorted, not in the API).
    view_columns: tuple[str, ...] = ()
    labels: Mapping[str, object] = field(default_factory=dict)  # for view_columns
    #: Count at most this many rows for the pager (tables of millions of rows).
    count_cap: int | None = None
    #: FAB permission -> access level it needs (screen and API alike).
    permission_levels: Mapping[str, str] = field(default_factory=dict)
    #: Extra form fields of the screen only (e.g. a «Подтверждаю» box), not of the API.
    form_only: tuple[str, ...] = ()
    #: Demo rows: {attribute: value}, a many-to-one link given by the linked row's
    #: code (a many-to-many one by a list of codes); or a function returning them
    #: (rows that depend on today's date). Empty when a demo loader writes the rows.
    samples: tuple[Mapping, ...] | Callable[[], tuple[Mapping, ...]] = ()

    def sample_rows(self) -> list[Mapping]:
        """Return the demo rows of `samples` (calling it when it is a function)."""
        return list(self.samples() if callable(self.samples) else self.samples)


def table(columns: str, *rows: tuple) -> tuple[dict, ...]:
    """Return `samples` written as a table: `columns` space-separated, one tuple per row."""
    names = columns.split()
    return tuple(dict(zip(names, row, strict=True)) for row in rows)


def _relationships(model: type) -> set[str]:
    return {rel.key for rel in sa_inspect(model).relationships}


def build(book: RefBook) -> tuple[type, type]:
    """Return the (view, API) classes generated from a declaration."""
    model = book.model
    labels = {**column_labels(model), **book.labels}
    title = book.label or model.__label__
    edit = list(book.edit_columns or book.columns)
    search = list(book.search_columns or book.columns)
    rels = _relationships(model)
    eager = (*(c for c in book.columns if c in rels), *book.eager)
    stem = book.stem or model.__name__
    common = {
        # The declaration itself: the demo and the rights matrix test read it.
        "refbook": book,
        "governing_right": book.right,
        "permission_rights": dict(book.permission_rights),
        "permission_levels": dict(book.permission_levels),
        "base_filters": [list(f) for f in book.base_filters],
        "field_rights": dict(book.field_rights),
        "validate": book.validate,
        "check_delete_rule": staticmethod(book.delete_rule) if book.delete_rule else None,
        "base_order": book.order,
    }
    view = type(f"{stem}View", (book.view_base,), {
        **common,
        "__doc__": f"Screen of «{title}» (generated from its RefBook declaration).",
        "datamodel": UchetInterface(model, eager=eager, optional=book.optional,
                                    count_cap=book.count_cap,
                                    eager_columns=book.eager_columns),
        "list_title": title,
        "show_title": title,
        "add_title": title,
        "edit_title": title,
        "label_columns": labels,
        "list_columns": [*book.columns, *book.view_columns],
        "show_columns": list(dict.fromkeys([*book.columns, *book.view_columns, *edit])),
        "add_columns": [*edit, *book.form_only],
        "edit_columns": [*edit, *book.form_only],
        "search_columns": search,
        "order_columns": [c for c in book.columns if c not in rels],
        "formatters_columns": dict(book.formatters),
        **book.extra,
    })
    api_columns = [f"{c}.id" if c in rels else c for c in book.columns]
    api = type(f"{stem}Api", (book.api_base,), {
        **common,
        "__doc__": f"REST API of «{title}».",
        "resource_name": book.name.lower(),
        "datamodel": UchetInterface(model, optional=book.optional, count_cap=book.count_cap),
        "list_columns": ["id", *api_columns],
        "show_columns": ["id", *dict.fromkeys([*api_columns,
                                                *[f"{c}.id" if c in rels else c for c in edit]])],
        "add_columns": edit,
        "edit_columns": edit,
        "search_columns": search,
        "order_columns": [c for c in book.columns if c not in rels],
        "label_columns": labels,
    })
    return view, api


def register_refbook(book: RefBook, built: tuple[type, type] | None = None
                     ) -> tuple[type, type]:
    """Build a reference book's classes (unless `built` already holds them, e.g. to
    name them in another screen's related views first) and add them to the registry."""
    view, api = built or build(book)
    register(view, name=book.name, label=book.label or book.model.__label__,
             category=book.category, icon=book.icon, apis=(api,))
    return view, api


def declared_books() -> list[RefBook]:
    """Return the declarations of every registered reference book, in registry order
    (after `views.load_all()`, every book of every module)."""
    return [entry.view.refbook for entry in REGISTRY
            if isinstance(getattr(entry.view, "refbook", None), RefBook)]
