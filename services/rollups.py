"""The statistics rollups (models.rollups) follow the vouchers in the same transaction.

After every flush that touched vouchers or their lines, the (office, day) and
(branch, day) keys the changed vouchers had before and have after it are recomputed
from `vch_voucher` — deleted and inserted again from the detail aggregate, after the
voucher totals (services.vouchers.totals) have been refreshed — so a rollup row is
always exactly what the detail adds up to, whatever the change (create, edit, a
line cancelled, a voucher moved to another day or office, deleted). A change made
with bulk SQL outside the ORM is repaired by `flask uchet rollups rebuild`, which
runs the same statements over every key (idempotent).

The distinct patients of calendar months and years (services.stat_periods) follow
in the same step, from the (office, day, patient) keys of the changed vouchers.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    cast,
    delete,
    distinct,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from models.org import Unit
from models.rollups import BranchDay, OfficeDay, OfficePatientDay
from models.vouchers import Voucher, VoucherLine
from services import stat_periods

V = Voucher.__table__.c
_PENDING = "rollup_keys"
_FIGURES = ("visits", "patients", "tests", "cost")


def _figures():
    return [func.count(), func.count(distinct(V.patient_id)),
            func.coalesce(func.sum(V.line_count), 0), func.coalesce(func.sum(V.total), 0)]


def _office_day(where: list):
    return (select(V.referring_unit_id, V.service_date, *_figures())
            .where(V.referring_unit_id.is_not(None), *where)
            .group_by(V.referring_unit_id, V.service_date))


def _office_patient_day(where: list):
    return (select(V.referring_unit_id, V.service_date, V.patient_id, func.count())
            .where(V.referring_unit_id.is_not(None), *where)
            .group_by(V.referring_unit_id, V.service_date, V.patient_id))


def _branch_day(where: list):
    return (select(V.branch_id, V.service_date, *_figures()).where(*where)
            .group_by(V.branch_id, V.service_date))


def _statements(office_days: list | None, branch_days: list | None) -> list:
    """Return the DELETE and INSERT ... SELECT statements recomputing the given keys
    (None: every key; an empty list: none)."""
    result = []
    if office_days is None or office_days:
        keys = office_days
        for model, source, columns in (
                (OfficeDay, _office_day, ["office_id", "day", *_FIGURES]),
                (OfficePatientDay, _office_patient_day,
                 ["office_id", "day", "patient_id", "visits"])):
            table = model.__table__
            if keys is None:
                result.append(delete(table))
                where = []
            else:
                result.append(delete(table).where(
                    tuple_(table.c.office_id, table.c.day).in_(keys)))
                where = [tuple_(V.referring_unit_id, V.service_date).in_(keys)]
            result.append(insert(table).from_select(columns, source(where)))
    if branch_days is None or branch_days:
        table = BranchDay.__table__
        if branch_days is None:
            result.append(delete(table))
            where = []
        else:
            result.append(delete(table).where(
                tuple_(table.c.branch_id, table.c.day).in_(branch_days)))
            where = [tuple_(V.branch_id, V.service_date).in_(branch_days)]
        result.append(insert(table).from_select(["branch_id", "day", *_FIGURES],
                                                _branch_day(where)))
    return result


def rebuild_statements() -> list:
    """Return the statements rebuilding the day rollups from the vouchers (the
    migration 0016 runs them; the calendar periods' are 0022's, which 0016 predates)."""
    return _statements(None, None)


def rebuild(session: Session) -> None:
    """Rebuild every rollup from the vouchers, the calendar periods' distinct
    patients included (idempotent; the caller commits). On PostgreSQL the requests'
    statement_timeout is lifted for the transaction: at 10M voucher lines a statement
    runs for minutes."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL statement_timeout = 0"))
    for statement in rebuild_statements() + stat_periods.rebuild_statements():
        session.execute(statement)


#: Tags of the advisory lock keys, so an office, a branch and a patient of the same
#: id differ.
_OFFICE, _BRANCH, _PATIENT = 1, 2, 3
#: The lock a move in the org tree takes alone and every members' refresh shares.
_TREE_LOCK = 4 << 60


def lock_keys(office_days, branch_days, patient_years=()) -> list[int]:
    """Return the advisory lock numbers of the keys, sorted (every transaction takes
    them in one order): tag, unit id and the day's ordinal packed in 63 bits; for a
    (patient, year), tag, patient id and the year."""
    keys = {(tag << 60) | (unit << 20) | day.toordinal()
            for tag, keys in ((_OFFICE, office_days), (_BRANCH, branch_days))
            for unit, day in keys}
    keys |= {(_PATIENT << 60) | (patient << 20) | year for patient, year in patient_years}
    return sorted(keys)


def recompute(session: Session, office_days, branch_days, patient_days=()) -> None:
    """Recompute the rollup rows of the given (office, day) and (branch, day) keys,
    and the calendar periods' members of the (office, day, patient) keys.

    On PostgreSQL the keys are locked first, until the commit: two transactions of
    one branch and day would otherwise each delete the row the other cannot see yet
    and insert it again (a unique violation), or the later one would count from a
    snapshot without the earlier one's vouchers. Once the lock is held, the next
    statement's snapshot sees what the earlier transaction committed. A patient's
    members of a year are shared by all his offices and days: (patient, year) is
    locked with the others, in the same sorted call."""
    if session.get_bind().dialect.name == "postgresql":
        if patient_days:
            # Shared with every voucher change, exclusive to an org tree move, which
            # rewrites whole subtrees' members (_after_flush_postexec).
            session.execute(select(func.pg_advisory_xact_lock_shared(_TREE_LOCK)))
        keys = lock_keys(office_days, branch_days, stat_periods.lock_years(patient_days))
        if keys:
            session.execute(select(func.pg_advisory_xact_lock(func.unnest(
                cast(keys, ARRAY(BigInteger))))))
    for statement in _statements(sorted(office_days), sorted(branch_days)):
        session.execute(statement)
    stat_periods.refresh(session, patient_days)


def _stored_keys(session: Session, ids: set, pending: dict) -> None:
    """Add the keys the vouchers `ids` have in the database before the flush writes
    (read on the connection: no autoflush; the objects' old values may never have
    been loaded)."""
    rows = session.connection().execute(
        select(V.referring_unit_id, V.service_date, V.branch_id, V.patient_id)
        .where(V.id.in_(sorted(ids))))
    for office, day, branch, patient in rows:
        if office is not None:
            pending["office"].add((office, day))
            pending["patient"].add((office, day, patient))
        pending["branch"].add((branch, day))
    pending["vouchers"] |= ids


def _before_flush(session: Session, _context, _instances) -> None:
    pending = session.info.setdefault(_PENDING, {"office": set(), "branch": set(),
                                                 "patient": set(), "ids": set(),
                                                 "vouchers": set(), "objects": []})
    moved = set()
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, Voucher) and obj.id is not None:
            moved.add(obj.id)
            pending["ids"].add(obj.id)
        elif isinstance(obj, VoucherLine) and obj.voucher_id is not None:
            pending["ids"].add(obj.voucher_id)
    if moved:
        _stored_keys(session, moved, pending)
    # An office moved in the org tree changes the subtrees counted above it.
    moves = [(o.id, _new_parent(o)) for o in session.dirty
             if isinstance(o, Unit) and o.id is not None and _parent_changes(o)]
    if moves:
        pending.setdefault("units", set()).update(stat_periods.moved_units(session, moves))
    # New vouchers and lines learn their ids in the flush.
    pending["objects"].extend(o for o in session.new if isinstance(o, (Voucher, VoucherLine)))


def _parent_changes(unit: Unit) -> bool:
    # Either side of the link may have been set: the FK or the relationship.
    attrs = inspect(unit).attrs
    return attrs.parent_id.history.has_changes() or attrs.parent.history.has_changes()


def _new_parent(unit: Unit) -> int | None:
    """Return the id the unit's parent will have after the flush (the FK as set, or
    the related unit's when the relationship was set)."""
    if inspect(unit).attrs.parent_id.history.has_changes():
        return unit.parent_id
    return unit.parent.id if unit.parent is not None else None


def _after_flush_postexec(session: Session, _context) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    if pending.get("units"):
        # After the org tree's closure rows were rewritten (its after_flush hook);
        # no voucher change may read or write members meanwhile.
        if session.get_bind().dialect.name == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(_TREE_LOCK)))
        for statement in stat_periods.rebuild_statements(sorted(pending["units"])):
            session.execute(statement)
    ids = set(pending["ids"])
    for obj in pending["objects"]:
        ids.add(obj.id if isinstance(obj, Voucher) else obj.voucher_id)
    ids.discard(None)
    # A line's change moves no patient: the periods' members follow the vouchers
    # themselves (new, changed or deleted), not their lines.
    vouchers = pending["vouchers"] | {o.id for o in pending["objects"] if isinstance(o, Voucher)}
    office, branch, people = pending["office"], pending["branch"], pending["patient"]
    if ids:
        # Where the vouchers are now (the flush may have moved them).
        for vid, ref, day, br, patient in session.execute(
                select(V.id, V.referring_unit_id, V.service_date, V.branch_id, V.patient_id)
                .where(V.id.in_(sorted(ids)))):
            if ref is not None:
                office.add((ref, day))
                if vid in vouchers:
                    people.add((ref, day, patient))
            branch.add((br, day))
    if office or branch:
        recompute(session, office, branch, people)


def _after_rollback(session: Session, _previous_transaction) -> None:
    session.info.pop(_PENDING, None)


def install() -> None:
    """Register the hooks on every session (idempotent). Install after the voucher
    totals' hooks: the rollups read the totals they refresh."""
    for name, fn in (("before_flush", _before_flush),
                     ("after_flush_postexec", _after_flush_postexec),
                     ("after_soft_rollback", _after_rollback)):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)
