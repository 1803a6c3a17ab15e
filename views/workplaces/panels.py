"""The registry of home panels. A panel declares the rights it needs (never a role:
a registrar's home is what his rights open) and returns its data; `views/home.py`
renders, in `order`, the panels the user's rights allow. Adding a panel is one
`panel(...)` call and one template under `uchet/panels/`.

The data functions live in `services/workplaces/` and read through `scoped()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

#: A right a panel needs: (code, minimum level or None for a yes/no right).
Need = tuple[str, "str | None"]


@dataclass(frozen=True)
class Panel:
    """One panel of the home page."""

    key: str
    title: object
    needs: tuple[Need, ...]
    template: str
    #: (session, rights, today, args) -> dict for the template; None: a slot not wired yet.
    data: Callable | None
    order: int = 100
    wide: bool = False

    def allowed(self, rights) -> bool:
        """Return whether the user holds every right the panel needs."""
        return all(rights.allows(code, minimum) for code, minimum in self.needs)


PANELS: list[Panel] = []


def panel(key: str, title, *, needs: tuple[Need, ...], data: Callable | None,
          order: int = 100, wide: bool = False, template: str | None = None) -> Panel:
    """Declare a home panel; returns it. Its template is `uchet/panels/<key>.html`."""
    declared = Panel(key, title, tuple(needs), template or f"uchet/panels/{key}.html", data,
                     order, wide)
    PANELS.append(declared)
    return declared


def shown(rights) -> list[Panel]:
    """Return the panels the user's rights allow that have a data source, in order."""
    return sorted((p for p in PANELS if p.data is not None and p.allowed(rights)),
                  key=lambda p: p.order)


def build(session, rights, args, today: dt.date | None = None) -> list[tuple[Panel, dict]]:
    """Return each shown panel with its data (`args`: the page's query arguments)."""
    today = today or dt.date.today()
    return [(p, p.data(session, rights, today, args)) for p in shown(rights)]
