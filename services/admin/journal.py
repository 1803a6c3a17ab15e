"""The change journal, written by a session hook in the same transaction as the change.

Every mapped class is journaled unless listed in EXCLUDED_TABLES (derived or
bookkeeping tables). Because the rows are inserted on the flush's own
connection, a rolled-back transaction takes its journal rows with it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import NO_VALUE

from core.actor import current_actor
from models.journal import JournalEntry

# Derived data (closure, the money chain's head), the journal itself, FAB's permission
# bookkeeping, which `flask uchet sync` rewrites wholesale from the views, and the
# register emulator's memory (a device's, not the application's data).
EXCLUDED_TABLES = frozenset(
    {
        "change_journal",
        "org_unit_closure",
        "ab_permission",
        "ab_view_menu",
        "ab_permission_view",
        "ab_register_user",
        "money_chain_head",
        "money_emulator",
        # The statistics rollups: sums of the vouchers, which are journaled.
        "stat_office_day",
        "stat_office_patient_day",
        "stat_branch_day",
    }
)
# Columns whose churn is not a change anyone decided (login counters, the rights
# cache's token: security.rights_cache) or whose
# value must never be copied anywhere (password hashes; the TOTP secret, sealed, and
# the recovery codes' hashes: user_totp).
IGNORED_COLUMNS = frozenset({"last_login", "login_count", "fail_login_count", "changed_on",
                             "rights_epoch"})
MASKED_COLUMNS = frozenset({"password", "secret", "recovery"})
# Derived collections: a role's FAB permissions are recomputed from its rights,
# whose own rows are journaled; listing hundreds of permission ids adds noise.
IGNORED_COLLECTIONS = frozenset({("ab_role", "permissions")})
MASK = "***"

def _plain(value: Any) -> Any:
    """Return a JSON-safe form of a column value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return str(value)


def _column_attrs(state) -> list:
    return [a for a in state.mapper.column_attrs if a.key not in IGNORED_COLUMNS]


def _collection_attrs(state) -> list:
    # Many-to-many links (roles, delegated units) are part of a row's meaning.
    table = state.mapper.local_table.name
    return [
        r for r in state.mapper.relationships
        if r.secondary is not None and r.uselist and (table, r.key) not in IGNORED_COLLECTIONS
    ]


def _value(key: str, value: Any) -> Any:
    return MASK if key in MASKED_COLUMNS and value is not None else _plain(value)


def _ids(objs) -> list:
    return sorted(str(inspect(o).identity[0]) if inspect(o).identity else "?" for o in objs)


def _snapshot(state, *, old: bool) -> dict[str, Any]:
    """Return the row's values.

    With old=True: only the changed fields, with their values before this flush
    (read from the database where the old value was never loaded). Otherwise:
    every loaded field.
    """
    data: dict[str, Any] = {}
    unloaded = []
    for attr in _column_attrs(state):
        hist = state.attrs[attr.key].history
        if old:
            if not hist.has_changes():
                continue
            if not hist.deleted and state.key is not None:
                # Set on an expired row (e.g. after a commit): the old value was
                # never loaded, so read it from the database below.
                unloaded.append(attr)
                continue
            value = hist.deleted[0] if hist.deleted else None
        else:
            value = state.attrs[attr.key].loaded_value
            if value is NO_VALUE:
                continue
        data[attr.columns[0].name] = _value(attr.key, value)
    if unloaded:
        data.update(_stored_values(state, unloaded))
    for rel in _collection_attrs(state):
        hist = state.attrs[rel.key].history
        if old:
            if not hist.has_changes():
                continue
            data[rel.key] = _ids(list(hist.unchanged) + list(hist.deleted))
        else:
            if hist.has_changes():
                data[rel.key] = _ids(list(hist.unchanged) + list(hist.added))
    return data


def _stored_values(state, attrs: list) -> dict[str, Any]:
    """Return the values of `attrs` as stored in the database (before this flush)."""
    pk = state.mapper.primary_key
    row = state.session.execute(
        select(*(a.columns[0] for a in attrs)).where(
            *(col == value for col, value in zip(pk, state.key[1], strict=True))
        )
    ).first()
    return {
        a.columns[0].name: _value(a.key, None if row is None else row[i])
        for i, a in enumerate(attrs)
    }


def _changed(state) -> bool:
    for attr in _column_attrs(state):
        if state.attrs[attr.key].history.has_changes():
            return True
    return any(state.attrs[r.key].history.has_changes() for r in _collection_attrs(state))


def _pk(state) -> str:
    identity = state.identity or state.mapper.primary_key_from_instance(state.obj())
    return "/".join(str(v) for v in identity)


def _journaled(state) -> bool:
    return state.mapper.local_table.name not in EXCLUDED_TABLES


def _before_flush(session: Session, _ctx, _instances) -> None:
    # Updates and deletes: capture the "before" image while history still holds it.
    pending = session.info.setdefault("journal_pending", [])
    for obj in session.dirty:
        state = inspect(obj)
        if _journaled(state) and session.is_modified(obj) and _changed(state):
            pending.append(("update", state, _snapshot(state, old=True)))
    for obj in session.deleted:
        state = inspect(obj)
        if _journaled(state):
            pending.append(("delete", state, _snapshot(state, old=False)))
    for obj in session.new:
        state = inspect(obj)
        if _journaled(state):
            pending.append(("insert", state, None))


def _after_flush(session: Session, _ctx) -> None:
    pending = session.info.pop("journal_pending", [])
    if not pending:
        return
    user_id, username = current_actor()
    now = dt.datetime.now(dt.UTC)
    rows = []
    for action, state, before in pending:
        after = None if action == "delete" else _after_image(state, before)
        # Nothing really changed, unless the change is hidden behind the mask.
        if action == "update" and before == after and not MASKED_COLUMNS & before.keys():
            continue
        rows.append(
            {
                "at": now,
                "user_id": user_id,
                "username": username,
                "action": action,
                "table_name": state.mapper.local_table.name,
                "row_pk": _pk(state),
                "before": before,
                "after": after,
            }
        )
    if rows:
        session.connection().execute(insert(JournalEntry), rows)


def _after_image(state, before: dict | None) -> dict[str, Any]:
    """Return the values after the flush: all columns for inserts, changed keys for updates."""
    current = {}
    for attr in _column_attrs(state):
        current[attr.columns[0].name] = _value(attr.key, getattr(state.obj(), attr.key, None))
    for rel in _collection_attrs(state):
        current[rel.key] = _ids(getattr(state.obj(), rel.key) or [])
    if before is None:
        return current
    return {k: current.get(k) for k in before}


def _after_rollback(session: Session, _previous_transaction) -> None:
    # A flush that failed half-way must not leak its pending images into the next one.
    session.info.pop("journal_pending", None)


def install() -> None:
    """Register the journal hooks on every ORM session (idempotent)."""
    for name, fn in (
        ("before_flush", _before_flush),
        ("after_flush", _after_flush),
        ("after_soft_rollback", _after_rollback),
    ):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)
