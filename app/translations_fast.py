"""One dictionary look-up per translated string.

flask_babel resolves, for each of the ~500 strings of a list page (the menu, the
column labels, the lazy strings of the forms and filters), the request's babel
context through three look-ups of the `g` proxy, then the locale, the locale's name
and a cache keyed by it: about a fifth of a page's template time at 1M lines
(bench/profile_pages.py). `install` makes the context a direct read of Flask's
app-context variable and keeps the request's translations beside the Locale object
they were loaded for, so `_()` costs a dictionary look-up. A change of locale within
a request (`force_locale`, `refresh`) replaces that Locale object, so it still takes
effect at once; outside an app context nothing changes (NullTranslations).
"""

from __future__ import annotations

from types import SimpleNamespace

import flask_babel
from flask.globals import _cv_app

_load_translations = flask_babel.Domain.get_translations


def _context() -> SimpleNamespace | None:
    """Return the app context's babel namespace (None outside an app context), as
    flask_babel's `_get_current_context` does, without going through the proxy."""
    ctx = _cv_app.get(None)
    if ctx is None:
        return None
    try:
        return ctx.g._flask_babel
    except AttributeError:
        ctx.g._flask_babel = namespace = SimpleNamespace()
        return namespace


def _translations(domain: flask_babel.Domain):
    """Return the domain's translations for the request's locale: loaded (or taken
    from flask_babel's process-wide cache) once per request and locale."""
    ctx = _context()
    kept = getattr(ctx, "uchet_translations", None) if ctx is not None else None
    if kept is not None and kept[0] is getattr(ctx, "babel_locale", None) \
            and kept[1] is domain:
        return kept[2]
    translations = _load_translations(domain)
    if ctx is not None:
        # get_locale() has set babel_locale while loading.
        ctx.uchet_translations = (getattr(ctx, "babel_locale", None), domain, translations)
    return translations


def install() -> None:
    """Route flask_babel's context and translation look-ups through this module
    (idempotent; every app of the process shares flask_babel's module state)."""
    flask_babel._get_current_context = _context
    flask_babel.Domain.get_translations = _translations
