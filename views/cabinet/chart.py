"""The statistics chart, drawn on the server as SVG: every period of the range on
the horizontal axis (zeros included), visits on the vertical axis with round ticks,
the value over each bar. No script, no CDN."""

from __future__ import annotations

import datetime as dt
import math

from dateutil.relativedelta import relativedelta

#: Plot geometry, in SVG units (the SVG scales to the page's width).
WIDTH, HEIGHT = 900, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 10, 18, 42
MAX_LABELS = 16


def periods(start: dt.date, end: dt.date, grouping: str) -> list[dt.date]:
    """Return each day, or each month's first day, from `start` to `end`."""
    if grouping == "day":
        return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    month, last = start.replace(day=1), end.replace(day=1)
    found = []
    while month <= last:
        found.append(month)
        month += relativedelta(months=1)
    return found


def nice_top(value: int) -> int:
    """Return the axis' top: four ticks of a round step (1, 2 or 5 × 10ⁿ) reaching
    `value` (at least 4)."""
    need = max(value, 4) / 4
    power = 10 ** (len(str(math.ceil(need))) - 1)  # the order of magnitude of a step
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= need)
    return 4 * step


def label(day: dt.date, grouping: str) -> str:
    """Return a period's label under its bar: ДД.ММ for a day, ММ.ГГГГ for a month."""
    return f"{day:%d.%m}" if grouping == "day" else f"{day:%m.%Y}"


def chart(rows, start: dt.date, end: dt.date, grouping: str) -> dict:
    """Return the SVG's geometry for the visits of `rows` (Figures keyed by period):
    bars (x, y, width, height, value, label, labelled), ticks (y, value) and the plot's
    box."""
    visits = {row.key: row.visits for row in rows}
    days = periods(start, end, grouping)
    values = [visits.get(day, 0) for day in days]
    top = nice_top(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(days), 1)
    every = max(1, math.ceil(len(days) / MAX_LABELS))
    bars = []
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        height = plot_h * value / top
        bars.append({"x": round(LEFT + i * step + step * 0.15, 1),
                     "width": round(max(step * 0.7, 1), 1),
                     "y": round(TOP + plot_h - height, 1), "height": round(height, 1),
                     "value": value, "label": label(day, grouping),
                     "full": f"{day:%d.%m.%Y}" if grouping == "day" else f"{day:%m.%Y}",
                     "center": round(LEFT + i * step + step / 2, 1),
                     "labelled": i % every == 0, "valued": value > 0 and len(days) <= 31})
    ticks = [{"value": top * k // 4, "y": round(TOP + plot_h - plot_h * k / 4, 1)}
             for k in range(5)]
    return {"bars": bars, "ticks": ticks, "width": WIDTH, "height": HEIGHT, "left": LEFT,
            "right": WIDTH - RIGHT, "top": TOP, "bottom": TOP + plot_h}
