"""Rules every reference book shares: unique codes and deletions that would
leave other rows pointing at nothing. Both answer in Russian, before the
database would answer with an integrity error (or a 500)."""

from __future__ import annotations

from flask_appbuilder import Model
from flask_babel import gettext as _
from sqlalchemy import UniqueConstraint, func, select
from sqlalchemy import inspect as sa_inspect

from core.errors import ValidationError
from models.base import fk_value


def check_unique(session, item) -> None:
    """Refuse a value of a unique column that another row already has.

    Raises ValidationError naming the field and the value.
    """
    mapper = sa_inspect(type(item))
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if not column.unique:
            continue
        value = getattr(item, attr.key)
        if value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
        query = select(func.count()).select_from(mapper.local_table).where(column == value)
        if item.id is not None:
            query = query.where(mapper.local_table.c.id != item.id)
        with session.no_autoflush:
            taken = session.scalar(query)
        if taken:
            label = column.info.get("label", attr.key)
            raise ValidationError(
                _("Значение «%(value)s» поля «%(field)s» уже занято", value=value, field=label),
                field=attr.key,
            )


def check_unique_together(session, item) -> None:
    """Refuse a combination of values that a multi-column unique constraint forbids.

    Raises ValidationError naming the fields.
    """
    table = sa_inspect(type(item)).local_table
    for constraint in table.constraints:
        if not isinstance(constraint, UniqueConstraint) or len(constraint.columns) < 2:
            continue
        columns = list(constraint.columns)
        mapper = sa_inspect(type(item))
        values = [fk_value(item, mapper.get_property_by_column(c).key) for c in columns]
        if any(v is None for v in values):
            continue
        query = select(func.count()).select_from(table).where(
            *[c == v for c, v in zip(columns, values, strict=True)])
        if item.id is not None:
            query = query.where(table.c.id != item.id)
        with session.no_autoflush:
            taken = session.scalar(query)
        if taken:
            fields = ", ".join(f"«{c.info.get('label', c.name)}»" for c in columns)
            raise ValidationError(_("Запись с такими же значениями полей %(fields)s уже есть",
                                    fields=fields))


def _referencing(table):
    """Yield (referencing table, its FK column) for every FK that points at `table`."""
    for other in Model.metadata.tables.values():
        for fk in other.foreign_keys:
            if fk.column.table is table and fk.ondelete not in ("CASCADE", "SET NULL"):
                yield other, fk.parent


def _table_label(table) -> str:
    from models.journal import table_label

    return table_label(table.name)


def check_references(session, item) -> None:
    """Refuse to delete a row that other rows still reference.

    Raises ValidationError listing, in Russian, what refers to it and how many.
    """
    table = sa_inspect(type(item)).local_table
    uses = []
    with session.no_autoflush:
        for other, column in _referencing(table):
            count = session.scalar(select(func.count()).select_from(other).where(column == item.id))
            if count:
                uses.append(f"{_table_label(other)} ({count})")
    if uses:
        raise ValidationError(
            _("Нельзя удалить «%(name)s»: на запись ссылаются: %(uses)s",
              name=item, uses=", ".join(uses))
        )
