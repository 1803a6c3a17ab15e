"""The start page: the user's workplace. Its panels (views/workplaces) are the ones
his rights allow — the day's work and the shortest way to it; every section he may
open is one click away (Все разделы)."""

from __future__ import annotations

import datetime as dt

from flask import g, redirect, request, url_for
from flask_appbuilder import IndexView, expose

from security.effective import current
from services.cabinet.requests import unseen_answers
from views.menu import CATEGORIES
from views.registry import REGISTRY
from views.workplaces import declared  # noqa: F401  (declares the panels)
from views.workplaces.panels import build


def tiles(rights) -> list[dict]:
    """Return the screens the user may open, as tiles grouped by menu category."""
    found = []
    for entry in REGISTRY:
        if entry.name and rights.can("menu_access", entry.name):
            found.append({
                "label": entry.label,
                "icon": entry.icon,
                "category": CATEGORIES[entry.category]["label"] if entry.category else "",
                "url": url_for(f"{entry.view.__name__}.{entry.view.default_view}"),
            })
    return found


class HomeView(IndexView):
    """Anonymous visitors go to the login page; users see their workplace."""

    index_template = "uchet/index.html"

    def _page(self, template: str, **kwargs):
        user = getattr(g, "user", None)
        if user is None or not user.is_authenticated:
            return redirect(url_for(f"{self.appbuilder.sm.auth_view.endpoint}.login"))
        rights = current()
        return self.render_template(
            template, appbuilder=self.appbuilder, rights=rights,
            home_unit=getattr(user, "home_unit", None),
            unseen_answers=unseen_answers(self.appbuilder.session, rights.user_id)
            if rights.flag("cabinet.questions") else 0, today=dt.date.today(), **kwargs)

    @expose("/")
    def index(self):
        """The panels the user's rights allow, with their data; tiles when none."""
        user = getattr(g, "user", None)
        if user is None or not user.is_authenticated:
            return self._page(self.index_template)
        rights = current()
        panels = build(self.appbuilder.session, rights, request.args)
        return self._page(self.index_template, panels=panels,
                          tiles=[] if panels else tiles(rights))

    @expose("/sections/")
    def sections(self):
        """Every section the user may open, as tiles."""
        user = getattr(g, "user", None)
        if user is None or not user.is_authenticated:
            return self._page("uchet/sections.html")
        return self._page("uchet/sections.html", tiles=tiles(current()))
