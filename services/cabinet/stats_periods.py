"""The cabinet statistics' distinct patients from the calendar periods' counters
(services.stat_periods), when the period allows it: grouped by month, from the
first day of a month to a day of the same month, or from the 1st of January to a
day of the same year (this month, last month to the same day, this year to date).
The offices counted must be one unit of the counters: the office asked for, or the
user's scope when it is one unit's subtree (a head office and its branches, a
client) or one unit alone. Anything else returns None and the caller counts over
the office-day-patient rollup, as before.
"""

from __future__ import annotations

import datetime as dt

from models.org import CLIENT_KINDS
from services.stat_periods import read


def calendar_span(start: dt.date, end: dt.date, grouping: str) -> str | None:
    """Return "month" or "year" when [start, end] is the beginning of one calendar
    month or year grouped by month, else None."""
    if grouping != "month" or start.day != 1 or end.year != start.year:
        return None
    if start.month == end.month:
        return "month"
    return "year" if start.month == 1 else None


def counted_unit(rights, unit_id: int | None) -> tuple[int, bool] | None:
    """Return (unit, subtree): the counters holding the offices the statistics count
    (the office asked for alone; else the scope's one subtree or one unit), or None
    when the scope is everything, several units or not resolved."""
    if unit_id is not None:
        return unit_id, False
    scope = rights.scope
    if scope.all or scope.kinds is None:
        return None
    if len(scope.subtree) == 1 and scope.exact <= scope.subtree:
        (root,) = scope.subtree
        kind = next((k for k, ids in scope.kinds if root in ids), None)
        # Subtree counters are kept for client-side units only.
        return (root, True) if kind in {k.value for k in CLIENT_KINDS} else None
    if not scope.subtree and len(scope.exact) == 1:
        return next(iter(scope.exact)), False
    return None


def patients(session, rights, start: dt.date, end: dt.date, grouping: str,
             unit_id: int | None, offices: list[int], months: list[dt.date]):
    """Return (patients by office, by month, in total) read from the counters — one
    statement over a bounded number of rows — or None when the period or the scope
    does not allow it. `offices` and `months` are those with visits in the user's
    scope (an office outside it is not among them and gives 0)."""
    span, counted = calendar_span(start, end, grouping), counted_unit(rights, unit_id)
    if span is None or counted is None:
        return None
    if not offices or (unit_id is not None and unit_id not in offices):
        return {}, {}, 0
    unit, subtree = counted
    own = [(office, False, span, start) for office in offices]
    by_month = [(unit, subtree, "month", month) for month in months]
    total = (unit, subtree, span, start)
    counts = read(session, [*own, *by_month, total], end)
    return ({key[0]: counts[key] for key in own},
            {key[3]: counts[key] for key in by_month}, counts[total])
