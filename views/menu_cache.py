"""The menu bar, rendered once per rights, language and counts, not on every page.

The menu is the same ~60 items on every page: for each, a permission check, a
URL built by the router and a translated label — about a fifth of a card's template
time (bench/profile_pages.py). What it shows depends only on the user's FAB
permissions (`menu_access` of each item), the language, the counts of waiting
work beside the items (views.workplaces.looks.menu_counts, computed per request) and
where the app is mounted; the HTML is kept in the process under exactly those, so a
change of rights, language or counts shows at the next page.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

from flask import current_app, render_template, request
from flask_babel import get_locale
from markupsafe import Markup

from security.effective import current
from views.workplaces.looks import menu_counts

#: Distinct (permissions, language, counts, mount point) kept per app; the oldest
#: goes first.
LIMIT = 256
_lock = Lock()


def menu_html() -> Markup:
    """Return the menu's items as HTML for the current request."""
    app = current_app._get_current_object()
    kept: OrderedDict[tuple, Markup] = app.extensions["uchet_menu"]
    key = (current().permissions, str(get_locale()), tuple(sorted(menu_counts().items())),
           request.script_root)
    with _lock:
        html = kept.get(key)
        if html is not None:
            kept.move_to_end(key)
            return html
    html = Markup(render_template("uchet/navbar_menu_items.html", appbuilder=app.appbuilder))
    with _lock:
        kept[key] = html
        while len(kept) > LIMIT:
            kept.popitem(last=False)
    return html


def install(app) -> None:
    """Give the templates `uchet_menu()`, with an empty store of menus for `app`."""
    app.extensions["uchet_menu"] = OrderedDict()
    app.jinja_env.globals["uchet_menu"] = menu_html
