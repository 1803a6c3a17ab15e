"""The statistics dashboard: this month's visits, patients and tests of the user's
offices (and their cost, only under «Просмотр информации о стоимости») against the
same days of last month."""

from __future__ import annotations

import datetime as dt

from services.cabinet.stats import statistics


def month_against_last(session, rights, today: dt.date | None = None,
                       unit_id: int | None = None) -> dict:
    """Return {"this": Figures of this month up to today, "last": of last month up to
    the same day, "with_cost": whether cost is shown, "start", "last_start"}."""
    today = today or dt.date.today()
    first = today.replace(day=1)
    last_end = first - dt.timedelta(days=1)
    last_start = last_end.replace(day=1)
    same_day = last_start.replace(day=min(today.day, last_end.day))
    this = statistics(session, rights, first, today, "month", unit_id)
    last = statistics(session, rights, last_start, same_day, "month", unit_id)
    return {"this": this.total, "last": last.total, "with_cost": this.with_cost,
            "start": first, "last_start": last_start, "last_end": same_day}
