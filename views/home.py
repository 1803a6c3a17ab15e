"""The start page: who you are, where you are, where to go next."""

from __future__ import annotations

from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose

from security.effective import current
from services.cabinet.requests import unseen_answers
from views.menu import CATEGORIES
from views.registry import REGISTRY


def _tiles(rights) -> list[dict]:
    """Return the screens the user may open, as tiles grouped by menu category."""
    tiles = []
    for entry in REGISTRY:
        if entry.name and rights.can("menu_access", entry.name):
            tiles.append({
                "label": entry.label,
                "icon": entry.icon,
                "category": CATEGORIES[entry.category]["label"] if entry.category else "",
                "url": url_for(f"{entry.view.__name__}.{entry.view.default_view}"),
            })
    return tiles


class HomeView(IndexView):
    """Anonymous visitors go to the login page; users see their screens as tiles."""

    index_template = "uchet/index.html"

    @expose("/")
    def index(self):
        user = getattr(g, "user", None)
        if user is None or not user.is_authenticated:
            return redirect(url_for(f"{self.appbuilder.sm.auth_view.endpoint}.login"))
        rights = current()
        return self.render_template(
            self.index_template,
            appbuilder=self.appbuilder,
            rights=rights,
            tiles=_tiles(rights),
            home_unit=getattr(user, "home_unit", None),
            unseen_answers=unseen_answers(self.appbuilder.session, rights.user_id)
            if rights.flag("cabinet.questions") else 0,
        )
