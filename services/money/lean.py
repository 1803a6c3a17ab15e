"""Hot reads kept lean: a Core statement built and compiled once per key (the user,
his scope and side, the kinds he sees...) and run on the driver's cursor of the
session's connection, so a call is one round trip with no statement building,
compiling or ORM objects. Used by `statements.balance` and `statements.statement`.

Being below SQLAlchemy, these reads are not seen by its statement events: they
change nothing, so the journal has nothing to miss."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

CENT = Decimal("0.01")

#: (dialect, key...) -> (SQL text, parameters with `_Slot`s where the call's values go).
_COMPILED: dict = {}
#: Many users in a long-lived worker: past this many statements, start again.
_MAX = 4096


class _Slot:
    """Where a value given at each call goes in a positional parameter tuple."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


def compiled(dialect, key: tuple, build: Callable, slots: frozenset[str]):
    """Return the SQL text and parameters of the statement `build()` returns, compiled
    for `dialect` once per `key`. The parameters are a dict without the names in
    `slots` (filled at each call) or, for a positional driver, a tuple with a `_Slot`
    where each of them goes."""
    full = (dialect.name, *key)
    found = _COMPILED.get(full)
    if found is None:
        done = build().compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        values = done.construct_params()
        if done.positional:
            params = tuple(_Slot(name) if name in slots else values[name]
                           for name in done.positiontup)
        else:
            params = {name: value for name, value in values.items() if name not in slots}
        found = (done.string, params)
        if len(_COMPILED) > _MAX:
            _COMPILED.clear()
        _COMPILED[full] = found
    return found


def fetch(session, key: tuple, build: Callable, args: dict) -> list[tuple]:
    """Return the rows (the driver's tuples) of the statement `build()` returns, compiled
    once per `key` (`compiled`), with the values `args` for its bind parameters of
    those names, run on the driver's cursor of the session's connection (so within
    its transaction): SQLAlchemy's execution context would cost a third of a short
    round trip."""
    conn = session.connection()
    sql, params = compiled(conn.dialect, key, build, frozenset(args))
    if isinstance(params, tuple):
        values = tuple(args[p.name] if isinstance(p, _Slot) else p for p in params)
    else:
        values = {**params, **args}
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql, values)
        return cursor.fetchall()
    finally:
        cursor.close()


def money(value) -> Decimal | None:
    """Return the driver's amount as a Decimal: PostgreSQL's own, SQLite's number
    rounded to the cent (None stays None)."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(CENT)


def date(value) -> dt.date | None:
    """Return the driver's date as a date (SQLite gives the ISO text)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
