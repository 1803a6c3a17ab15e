"""A client request's way through its states (a timeline): the states on its path,
each with when it was reached, read from the change journal of the request's row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from models.journal import JournalEntry

#: table -> the states a request passes through when all goes well
PATHS = {
    "cab_courier_call": ("new", "accepted", "done"),
    "cab_consumable_order": ("new", "accepted", "shipped", "delivered"),
    "cab_addon_order": ("new", "accepted", "done"),
}
#: states that end a request off its path
ENDS = ("cancelled", "rejected")


@dataclass(frozen=True)
class Step:
    """One state of a request's timeline."""

    state: str
    at: dt.datetime | None
    reached: bool
    current: bool


def timelines(session, rows) -> dict[int, list[Step]]:
    """Return {row id: its steps} for requests of one kind (rows the caller has read
    through the scope): the path's states with the time each was reached, ending with
    the cancellation or refusal of one that left the path. {} for a kind without a
    path."""
    if not rows:
        return {}
    table = type(rows[0]).__tablename__
    path = PATHS.get(table)
    if path is None:
        return {}
    reached: dict[int, dict[str, dt.datetime]] = {row.id: {} for row in rows}
    for entry in session.scalars(
            select(JournalEntry).where(JournalEntry.table_name == table,
                                       JournalEntry.row_pk.in_([str(r.id) for r in rows]))
            .order_by(JournalEntry.at, JournalEntry.id)):
        state = (entry.after or {}).get("state")
        if state and state != (entry.before or {}).get("state"):
            reached[int(entry.row_pk)].setdefault(state, entry.at)
    found = {}
    for row in rows:
        times = reached[row.id]
        times["new"] = row.created_on  # when the client asked (a demo row is backdated)
        if row.state in ENDS:
            # The path up to where it left it, then the end.
            done = [s for s in path if s in times and s != row.state]
            states = [*done, row.state]
        else:
            states = list(path)
        position = states.index(row.state) if row.state in states else 0
        found[row.id] = [Step(state, times.get(state), i <= position, i == position)
                         for i, state in enumerate(states)]
    return found
