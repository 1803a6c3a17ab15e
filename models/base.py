"""Column helpers shared by reference books: every label is defined once, on
the column (`info["label"]`), and screens, exports and imports read it there."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, Numeric, String
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, mapped_column


def label(text) -> dict:
    """Return column info carrying its (lazy, translatable) label."""
    return {"label": text}


def inn_info(text) -> dict:
    """Return column info of an ИНН column: its label, and the mark that makes
    `services.values` check its digits (`services.inn`)."""
    return {"label": text, "inn": True}


class CodeNameMixin:
    """A reference row: unique code, name, active flag."""

    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False,
                                      info=label(_l("Код")))
    name: Mapped[str] = mapped_column(String(255), nullable=False,
                                      info=label(_l("Наименование")))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                         info=label(_l("Действует")))

    def __repr__(self) -> str:
        return self.name


class ValidityMixin:
    """A row valid from a date, until an optional date (inclusive)."""

    valid_from: Mapped[dt.date] = mapped_column(Date, nullable=False,
                                                info=label(_l("Действует с")))
    valid_to: Mapped[dt.date | None] = mapped_column(Date, info=label(_l("Действует по")))


def fk_value(item, key: str):
    """Return a foreign-key attribute's value, reading its relationship when a form
    or an API payload has set the related object: the key is only filled at flush."""
    for rel in sa_inspect(type(item)).relationships:
        if rel.uselist or key not in {c.key for c in rel.local_columns}:
            continue
        related = getattr(item, rel.key)
        if related is not None:
            return related.id
    return getattr(item, key)


def stored_value(item, key: str):
    """Return the value attribute `key` of a stored row had when it was loaded (the
    current one if unchanged), or None for a row not stored yet."""
    state = sa_inspect(item)
    if not state.persistent:
        return None
    history = state.attrs[key].history
    return (history.deleted or history.unchanged or [getattr(item, key)])[0]


def money(nullable: bool = False, text=None) -> Mapped[Decimal]:
    """Return an exact money column (never a float)."""
    return mapped_column(Numeric(14, 2), nullable=nullable, info=label(text or _l("Сумма")))


def lock_row(session, model, key) -> None:
    """Hold the row `key` of `model` until the transaction ends (SELECT … FOR UPDATE),
    so that two saves checking one balance — a programme's limits, a deposit — run one
    after the other instead of both seeing the same remainder. SQLite has no row
    locks and needs none: it lets one writer at a time."""
    from sqlalchemy import select

    with session.no_autoflush:
        session.execute(select(model.id).where(model.id == key).with_for_update())
