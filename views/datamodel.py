"""FAB's SQLAlchemy interface with declared eager loading for list pages, and
form fields that may be left empty where FAB would demand them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_appbuilder.models.sqla import filters as fab
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import false
from sqlalchemy.orm import joinedload, selectinload


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


class UchetFilterConverter(fab.SQLAFilterConverter):
    """FAB's converter with decimal columns filtered by value, not by text."""

    conversion_table = tuple(
        ("is_numeric", DECIMAL_FILTERS) if name == "is_numeric" else (name, filters)
        for name, filters in fab.SQLAFilterConverter.conversion_table)


class UchetInterface(SQLAInterface):
    """SQLAInterface that loads the named relationships with one extra query each
    (selectin), instead of one query per row when the list renders them."""

    filter_converter_class = UchetFilterConverter

    def __init__(self, obj, session=None, eager: tuple[str, ...] = (),
                 optional: tuple[str, ...] = (), count_cap: int | None = None):
        super().__init__(obj, session=session)
        self.eager = tuple(eager)
        self.optional = frozenset(optional)
        self.count_cap = count_cap

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

    def is_nullable(self, col_name: str) -> bool:
        """Return whether a form may leave the column empty.

        A checkbox always has a value (unticked is False), so FAB's "required" on
        a NOT NULL boolean would refuse every unticked box; `optional` columns are
        filled by a save rule (e.g. a programme's code from its template)."""
        if col_name in self.optional or self.is_boolean(col_name):
            return True
        return super().is_nullable(col_name)

    def apply_all(self, query, *args, **kwargs):
        """Return FAB's filtered, ordered, paginated query with the eager loads added:
        one query per relationship for a page of rows, joined into the row's own
        query for a single row (a card, an edit form: FAB's `get` asks no page size)."""
        query = super().apply_all(query, *args, **kwargs)
        single = kwargs.get("page_size") is None and len(args) < 5
        if self.eager:
            query = query.options(*(self._load(path, single) for path in self.eager))
        return query

    def _load(self, path: str, single: bool = False):
        """Return the load option for a relationship path like "programme.contract":
        selectin, or joined for a single row's many-to-one links."""
        model, option = self.obj, None
        for name in path.split("."):
            attr = getattr(model, name)
            joined = single and not attr.property.uselist
            if option is None:
                option = joinedload(attr) if joined else selectinload(attr)
            else:
                option = option.joinedload(attr) if joined else option.selectinload(attr)
            model = attr.property.mapper.class_
        return option
