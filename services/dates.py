"""Dates as people in Russia type and read them: ДД.ММ.ГГГГ and ДД.ММ.ГГГГ ЧЧ:ММ in
the configured time zone (`BABEL_DEFAULT_TIMEZONE`, set from UCHET_TIMEZONE).

Stored date-times without a zone are UTC (SQLite's CURRENT_TIMESTAMP, the server
clock); they become local time only on the way to a person: screens, XLSX, PDF.
ISO dates (2026-12-01) are still accepted, so the API and older links keep working.
"""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import get_timezone

DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d")
DATETIME_FORMATS = ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S",
                    "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
DATE_SHOWN = "%d.%m.%Y"
DATETIME_SHOWN = "%d.%m.%Y %H:%M"
_SPACES = re.compile(r"\s+")


def parse_date(text: str | None) -> dt.date | None:
    """Return the date typed as ДД.ММ.ГГГГ (or ISO ГГГГ-ММ-ДД); None for blank or
    for anything that is not a real date (32.01.2026, 01.12.26, «завтра»)."""
    raw = (text or "").strip()
    for pattern in DATE_FORMATS:
        try:
            day = dt.datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
        # strptime takes one-digit years ("1.1.7"): a registrar's typo, not year 7.
        if day.year >= 1000:
            return day
    return None


def parse_local_datetime(text: str | None) -> dt.datetime | None:
    """Return the moment typed as ДД.ММ.ГГГГ ЧЧ:ММ in the configured zone, as naive
    UTC (how date-times are stored); a date alone means its midnight. None for blank
    or for text that is not a moment."""
    raw = _SPACES.sub(" ", (text or "").strip())
    moment = None
    for pattern in DATETIME_FORMATS:
        try:
            moment = dt.datetime.strptime(raw, pattern)
            break
        except ValueError:
            continue
    if moment is None:
        day = parse_date(raw)
        moment = dt.datetime.combine(day, dt.time()) if day else None
    if moment is None or moment.year < 1000:
        return None
    zone = get_timezone()
    aware = zone.localize(moment) if hasattr(zone, "localize") else moment.replace(tzinfo=zone)
    return aware.astimezone(dt.UTC).replace(tzinfo=None)


def utc_now() -> dt.datetime:
    """Return now as naive UTC: the stamp of something that happened (asked, answered)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def local_now() -> dt.datetime:
    """Return now as naive wall-clock time of the configured zone: what a time typed
    by a person (a courier's window) is compared with."""
    return to_local(utc_now())


def to_local(moment: dt.datetime) -> dt.datetime:
    """Return `moment` (naive = UTC, or aware) as naive wall-clock time of the
    configured zone: what a person, a spreadsheet or a printed page shows."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(get_timezone()).replace(tzinfo=None)


def show_date(value) -> str:
    """Return a date (or a date-time's local day) as ДД.ММ.ГГГГ; blank for None."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = to_local(value)
    return value.strftime(DATE_SHOWN)


def show_datetime(value) -> str:
    """Return a date-time as local ДД.ММ.ГГГГ ЧЧ:ММ; blank for None."""
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        return value.strftime(DATE_SHOWN)
    return to_local(value).strftime(DATETIME_SHOWN)
