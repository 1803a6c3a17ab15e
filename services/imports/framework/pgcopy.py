"""PostgreSQL's side of the set-based write path: COPY with the foreign keys checked
once per batch instead of once per row, and the file's repeated rows told apart in a
temporary table (memory flat in the file's size).

Why: PostgreSQL checks a foreign key by a trigger per inserted row and per key — a
voucher line has seven (two usually empty), ~60 µs a line, six times the COPY itself
(measured with EXPLAIN ANALYZE, docs/imports.md «Measured»). `copy_rows` does the same
check once per distinct value: it locks the referenced rows `FOR KEY SHARE` (what the
trigger does, so that nobody deletes them until the import commits) and counts them;
only when every value is there does it COPY with the triggers skipped
(`session_replication_role = replica`, for this statement only). Whenever that is not
possible — the role may not set the parameter, the table has triggers of its own, a
value is missing — the rows go in by plain COPY and PostgreSQL checks them as usual
(a missing value then fails the same way it always did).
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from sqlalchemy import ARRAY, Integer, String, any_, bindparam, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeDecorator


def array_text(values) -> str:
    """Return `values` as a PostgreSQL array literal ('{1,2}', '{"a","b\\"c"}'). psycopg
    dumps a Python list element by element in Python (~7 µs a text, 37 ms for a batch's
    5,000 names); one text parameter is one C call."""
    items = []
    for value in values:
        if value is None:
            items.append("NULL")
        elif type(value) is int:
            items.append(str(value))
        else:
            items.append('"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(items) + "}"


class _IntArray(TypeDecorator):
    """An integer[] parameter sent as its text literal (array_text): psycopg sends a
    str untyped, so `$1::INTEGER[]` is a constant array the planner sees (an index
    scan, a hashed ANY) — a CAST of a text parameter would be parsed per row."""

    impl = ARRAY(Integer)
    cache_ok = True

    def bind_processor(self, dialect):
        return None  # the value is already the literal


class _TextArray(_IntArray):
    """A varchar[] parameter sent as its text literal (see _IntArray)."""

    impl = ARRAY(String)
    cache_ok = True


def any_of(column, values, item_type=None):
    """Return `column = ANY(array)` of `values`, the array sent as one text (array_text).
    `item_type` (Integer or String) defaults to the column's type."""
    item_type = item_type if item_type is not None else column.type
    kind = _IntArray if isinstance(item_type, Integer) or item_type is Integer else _TextArray
    return column == any_(bindparam(None, array_text(values), type_=kind()))


def _cached(session, key: str, query: str, params: dict | None = None):
    """Return the scalar of `query`, asked once per database connection."""
    info = session.connection().info
    if key not in info:
        info[key] = session.execute(text(query), params or {}).scalar()
    return info[key]


def may_skip_triggers(session, table) -> bool:
    """Return True when this connection may skip `table`'s foreign-key triggers: its
    role may set `session_replication_role` (a superuser, or on PostgreSQL 15+
    `GRANT SET ON PARAMETER session_replication_role`), and the table has no trigger of
    its own (replica mode would skip it too)."""
    allowed = _cached(session, "imports_may_set_replica", """
        SELECT CASE WHEN current_setting('server_version_num')::int >= 150000
                    THEN has_parameter_privilege('session_replication_role', 'SET')
                    ELSE current_setting('is_superuser') = 'on' END""")
    if not allowed:
        return False
    own = _cached(session, f"imports_triggers_{table.name}",
                  "SELECT count(*) FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) "
                  "AND NOT tgisinternal", {"t": table.name})
    return not own


def references_locked(session, table, columns: Sequence[str], rows: list[tuple]) -> bool:
    """Return True when every foreign-key value of `rows` exists, each referenced row
    now locked FOR KEY SHARE until the transaction ends (one query per foreign key);
    False when a value is missing or a foreign key is not one this check covers."""
    position = {name: i for i, name in enumerate(columns)}
    for constraint in table.foreign_key_constraints:
        if len(constraint.elements) != 1:
            return False
        element = constraint.elements[0]
        column = element.parent
        if column.name not in position:
            if column.server_default is not None or column.default is not None:
                return False  # a default we do not see might name a missing row
            continue  # NULL: nothing to check
        index = position[column.name]
        wanted = {row[index] for row in rows} - {None}
        if not wanted:
            continue
        target = element.column
        kind = Integer if isinstance(target.type, Integer) else String
        found = session.execute(select(target).where(any_of(target, wanted, kind))
                                .with_for_update(key_share=True, read=True)).all()
        if len(found) != len(wanted):
            return False
    return True


def copy_rows(session, table, columns: Sequence[str], rows: list[tuple]) -> None:
    """COPY `rows` into `table`, with the foreign keys checked per batch when allowed
    (see the module's docstring). Raises SQLAlchemy's DBAPIError (IntegrityError…) for
    what PostgreSQL refuses."""
    skip = (may_skip_triggers(session, table)
            and references_locked(session, table, columns, rows))
    if skip:
        # LOCAL: undone with the transaction if COPY fails; reset right after it.
        session.execute(text("SET LOCAL session_replication_role = replica"))
    cursor = session.connection().connection.driver_connection.cursor()
    sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    try:
        with cursor, cursor.copy(sql) as stream:
            for row in rows:
                stream.write_row(row)
    except psycopg.Error as exc:
        # The driver's own cursor: wrap its error as SQLAlchemy does (IntegrityError…),
        # so that the engine reports a conflict as one («Данные изменились…»).
        raise DBAPIError.instance(sql, None, exc, psycopg.Error) from exc
    if skip:
        session.execute(text("SET LOCAL session_replication_role = origin"))


_SEEN = "import_seen_keys"


def earlier_lines(session, ctx: dict, keys: list[tuple], lines: list[int]) -> dict[int, int]:
    """Return {index in `keys`: the line that had the same key before} for the batch's
    natural keys, against the earlier rows of the file, then remember the batch's new
    keys. The keys seen are kept in a temporary table of the transaction (dropped at
    its end, a preview's and a refused run's included), not in memory: a file of
    100,000 rows holds the memory of one batch."""
    if not ctx.get("_seen_table"):
        # IF NOT EXISTS and TRUNCATE: when the run's transaction is a savepoint of an
        # outer one (tests), the table of an earlier run may still be there.
        session.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_SEEN} "
                             "(k text PRIMARY KEY, line integer NOT NULL) ON COMMIT DROP"))
        session.execute(text(f"TRUNCATE {_SEEN}"))
        ctx["_seen_table"] = True
    texts = ["\x1f".join(map(str, key)) for key in keys]
    first: dict[str, int] = {}
    for text_key, line in zip(texts, lines, strict=True):
        first.setdefault(text_key, line)
    stored = dict(session.execute(text(f"SELECT k, line FROM {_SEEN} "
                                       "WHERE k = ANY(CAST(:k AS text[]))"),
                                  {"k": array_text(first)}).all())
    repeats = {}
    for index, (text_key, line) in enumerate(zip(texts, lines, strict=True)):
        before = stored.get(text_key, first[text_key])
        if before != line:
            repeats[index] = before
    new = [(k, line) for k, line in first.items() if k not in stored]
    if new:
        cursor = session.connection().connection.driver_connection.cursor()
        with cursor, cursor.copy(f"COPY {_SEEN} (k, line) FROM STDIN") as stream:
            for row in new:
                stream.write_row(row)
    return repeats
