"""FAB's SQLAlchemy interface with declared eager loading for list pages, and
form fields that may be left empty where FAB would demand them."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation

from flask import has_request_context, request
from flask_appbuilder.exceptions import (
    InvalidColumnFilterFABException,
    InvalidOperationFilterFABException,
)
from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla import filters as fab
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.utils.base import get_column_root_relation, is_column_dotted
from sqlalchemy import false
from sqlalchemy.orm import joinedload, selectinload

from security.access_log import note_rows
from services.dates import parse_date, parse_local_datetime
from views.guards import as_boolean


def _decimal(value):
    """Return `value` (or each of a list) as a Decimal, or None when it is not a number."""
    if isinstance(value, list):
        values = [_decimal(v) for v in value]
        return None if any(v is None for v in values) else values
    try:
        number = Decimal(str(value).strip().replace(" ", "").replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _decimal_filter(base: type) -> type:
    """Return FAB's filter `base` comparing a decimal column with a Decimal: FAB passes
    the typed text on unconverted, which PostgreSQL refuses to compare with numeric."""

    def apply(self, query, value):
        number = _decimal(value)
        if number is None:
            return query.filter(false())
        return base.apply(self, query, number)

    return type(f"Decimal{base.__name__}", (base,), {"apply": apply})


DECIMAL_FILTERS = [_decimal_filter(f) for f in (
    fab.FilterEqual, fab.FilterGreater, fab.FilterSmaller, fab.FilterNotEqual, fab.FilterIn,
    fab.FilterNotIn)]


def _typed_filter(base: type, parse) -> type:
    """Return FAB's filter `base` reading the typed value with `parse` (ДД.ММ.ГГГГ):
    FAB's own reading takes 02.01.2026 for the 1st of February."""

    def apply(self, query, value):
        typed = parse(value) if isinstance(value, str) else value
        if typed is None:
            return query.filter(false())
        return base.apply(self, query, typed)

    return type(f"Russian{base.__name__}", (base,), {"apply": apply})


DATE_FILTERS = [_typed_filter(f, parse_date) for f in (
    fab.FilterEqual, fab.FilterGreater, fab.FilterSmaller, fab.FilterNotEqual)]
DATETIME_FILTERS = [_typed_filter(f, parse_local_datetime) for f in (
    fab.FilterEqual, fab.FilterGreater, fab.FilterSmaller, fab.FilterNotEqual)]
# FAB turns only "y" into True and hands anything else ("n", "abc") to the
# database, which PostgreSQL refuses to compare with a boolean.
BOOLEAN_FILTERS = [_typed_filter(f, as_boolean) for f in (fab.FilterEqual, fab.FilterNotEqual)]
_OURS = {"is_boolean": BOOLEAN_FILTERS, "is_numeric": DECIMAL_FILTERS, "is_date": DATE_FILTERS,
         "is_datetime": DATETIME_FILTERS}


class UchetFilterConverter(fab.SQLAFilterConverter):
    """FAB's converter with decimal columns filtered by value, not by text, and
    dates read as ДД.ММ.ГГГГ."""

    conversion_table = tuple(
        (name, _OURS.get(name, filters))
        for name, filters in fab.SQLAFilterConverter.conversion_table)


class UchetFilters(Filters):
    """FAB's filters with the REST API's `opr` read from the column's own filters.

    FAB looks an `opr` ("eq") up in a process-wide map that every filter object
    writes its class into when built (flask_appbuilder.models.filters.map_args_filter):
    the last one built wins. FAB's own classes are shared by every column type, so
    that does not matter to FAB; ours are typed (a date's «eq» reads ДД.ММ.ГГГГ, a
    boolean's «eq» reads «да»/«нет», a decimal's reads a number), so after a screen
    had built a boolean column's filters a date filter of the API compared the
    date with a boolean reading and found nothing (`WHERE 0 = 1`)."""

    def _get_filters(self, cols) -> dict:
        """Return {column: [filter, ...]} for `cols`, as FAB's converter gives them,
        converted once per datamodel and columns: FAB builds a Filters object, and
        with it a filter instance of every operation of every column of the model,
        several times a request (each query's inner filters, the list's joined
        ones). The instances are never changed once built; the lists are copied,
        since FAB and the views extend them."""
        kept = self.datamodel.__dict__.setdefault("_uchet_converted", {})
        key = (self.filter_converter, tuple(cols))
        converted = kept.get(key)
        if converted is None:
            converted = kept[key] = super()._get_filters(cols)
        return {col: list(filters) for col, filters in converted.items()}

    def get_joined_filters(self, filters) -> UchetFilters:
        """Return FAB's joined filters (these and `filters`), as UchetFilters."""
        joined = UchetFilters(self.filter_converter, self.datamodel)
        joined.filters, joined.values = self.filters + filters.filters, self.values + filters.values
        return joined

    def rest_add_filters(self, data) -> None:
        """Add the API's filters ({col, opr, value}) with the class the column
        offers for `opr`; raise InvalidColumnFilterFABException for a column not
        searchable, InvalidOperationFilterFABException for an `opr` it lacks (FAB
        answers both with a 400)."""
        for item in data:
            try:
                opr, col, value = item["opr"], item["col"], item["value"]
            except (KeyError, TypeError):
                return  # FAB's own answer to a malformed filter: ignore the rest
            offered = self._search_filters.get(col)
            if not offered:
                raise InvalidColumnFilterFABException(f"Filter column: {col} not allowed to filter")
            for flt in offered:
                if flt.arg_name == opr:
                    self.add_filter(col, flt if isinstance(flt, type) else type(flt), value)
                    break
            else:
                raise InvalidOperationFilterFABException(
                    f"Filter operation: {opr} not allowed on column: {col}")


#: Relationship paths one `get` loads with its row, beside the declared `eager` ones
#: (a context variable: a view and its datamodel are shared by every request).
_GET_LOADS: ContextVar[tuple[str, ...]] = ContextVar("uchet_get_loads", default=())


def _channel() -> tuple[str, str] | None:
    """Return (channel, screen) of the request reading rows: a card, a list, an
    export or the API, and the view's name; None outside a request."""
    if not has_request_context() or not request.endpoint:
        return None
    screen, _dot, method = request.endpoint.rpartition(".")
    if request.path.startswith("/api/"):
        return "api", screen
    if method.startswith("export"):
        return "export", screen
    return ("show" if method in ("show", "edit") else "list"), screen


def note_patients(model: type, rows) -> None:
    """Journal that this request shows the patients of `rows` (security.access_log)."""
    where = _channel()
    if where is not None and rows:
        note_rows(model, rows, *where)


class UchetInterface(SQLAInterface):
    """SQLAInterface that loads the named relationships with the rows (joined
    many-to-one links, one selectin query per collection) instead of one query per
    row when a list renders them, and skips the count a short first page answers."""

    filter_converter_class = UchetFilterConverter

    def __init__(self, obj, session=None, eager: tuple[str, ...] = (),
                 optional: tuple[str, ...] = (), count_cap: int | None = None,
                 eager_columns: Mapping[str, tuple[str, ...]] | None = None):
        super().__init__(obj, session=session)
        self.eager = tuple(eager)
        self.eager_columns = dict(eager_columns or {})
        self.optional = frozenset(optional)
        self.count_cap = count_cap

    def get_filters(self, search_columns=None, search_filters=None) -> UchetFilters:
        """Return FAB's filters of the view, the API's `opr` read per column (UchetFilters)."""
        return UchetFilters(self.filter_converter_class, self, search_columns=search_columns or [],
                            search_filters=search_filters)

    def get_inner_filters(self, filters) -> UchetFilters:
        """Return FAB's inner filters of `filters` (plain columns, many-to-one and
        one-to-one links) as UchetFilters: their columns' filters converted once,
        not once per query."""
        inner = UchetFilters(self.filter_converter_class, self)
        if filters:
            inner.add_filter_list([
                (flt.column_name, type(flt), value)
                for flt, value in zip(filters.filters, filters.values, strict=True)
                if not is_column_dotted(flt.column_name)
                or self.is_relation_many_to_one(get_column_root_relation(flt.column_name))
                or self.is_relation_one_to_one(get_column_root_relation(flt.column_name))])
        return inner

    def query_count(self, query, filters=None, select_columns=None) -> int:
        """Return the number of matching rows, counting at most `count_cap` + 1 of them:
        an exact count over millions of vouchers would cost more than the page
        itself; the pager then offers the first `count_cap` rows and says "more"."""
        if self.count_cap is None:
            return super().query_count(query, filters, select_columns)
        inner = self._apply_inner_all(query, filters, select_columns=select_columns,
                                      aliases_mapping={})
        # Only the key: an index holding the filter columns and the key answers it
        # without reading the table (an index-only scan on PostgreSQL).
        key = self.obj.__mapper__.primary_key[0]
        return inner.with_entities(key).order_by(None).limit(self.count_cap + 1).count()

    def query(self, filters=None, order_column="", order_direction="", page=None,
              page_size=None, select_columns=None, outer_default_load=False):
        """Return (count, rows) like FAB's `query`, reading the rows first: a first
        page shorter than the page size is the whole result, so its length is the
        count and the count query is skipped (a voucher's lines on its card, most
        filtered lists)."""
        base = self.session.query(self.obj)
        rows = SQLAInterface.apply_all(
            self, base, filters, order_column, order_direction, page, page_size,
            select_columns, outer_default_load,
        ).options(*self._options(list_page=True)).all()
        whole = not page and (page_size is None or len(rows) < page_size)
        count = len(rows) if whole else self.query_count(base, filters, select_columns)
        name = self.obj.__name__
        if rows and hasattr(rows[0], name):
            rows = [getattr(row, name) for row in rows]
        note_patients(self.obj, rows)
        return count, rows

    def get(self, id, filters=None, select_columns=None, outer_default_load=False, *,
            load: tuple[str, ...] = ()):
        """Return FAB's row by key (None outside `filters`), journaling the read of its
        patient's data; `load` names relationship paths to read with it (a card's
        lines and what they show) in the same statements as the declared ones."""
        token = _GET_LOADS.set(tuple(load))
        try:
            item = super().get(id, filters, select_columns=select_columns,
                               outer_default_load=outer_default_load)
        finally:
            _GET_LOADS.reset(token)
        if item is not None:
            note_patients(self.obj, [item])
        return item

    def is_nullable(self, col_name: str) -> bool:
        """Return whether a form may leave the column empty.

        A checkbox always has a value (unticked is False), so FAB's "required" on
        a NOT NULL boolean would refuse every unticked box; `optional` columns are
        filled by a save rule (e.g. a programme's code from its template)."""
        if col_name in self.optional or self.is_boolean(col_name):
            return True
        return super().is_nullable(col_name)

    def apply_all(self, query, *args, **kwargs):
        """Return FAB's filtered, ordered, paginated query with the eager loads added."""
        query = super().apply_all(query, *args, **kwargs)
        options = self._options(list_page=False)
        return query.options(*options) if options else query

    def _options(self, *, list_page: bool) -> list:
        """Return the load options of the declared `eager` paths and this `get`'s
        own; a list page reads only the `eager_columns` of a path that names them."""
        paths = (*self.eager, *_GET_LOADS.get())
        return [self._load(path, self.eager_columns.get(path) if list_page else None)
                for path in paths]

    def _load(self, path: str, columns: tuple[str, ...] | None = None):
        """Return the load option for a relationship path like "programme.contract":
        a many-to-one link joined into the rows' own query (it adds columns, never
        rows, so a page's LIMIT still holds), a collection selectin (one query for
        the page); with `columns`, only those columns of the path's rows (their key
        and link always come with them)."""
        model, option = self.obj, None
        for name in path.split("."):
            attr = getattr(model, name)
            joined = not attr.property.uselist
            if option is None:
                option = joinedload(attr) if joined else selectinload(attr)
            else:
                option = option.joinedload(attr) if joined else option.selectinload(attr)
            model = attr.property.mapper.class_
        if columns:
            option = option.load_only(*(getattr(model, column) for column in columns))
        return option
