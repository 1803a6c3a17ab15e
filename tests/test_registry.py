"""The view registry: every module of `views` is found without a list, and the
menu follows `views.menu.CATEGORIES` whatever order the modules load in."""

from __future__ import annotations

import sys
from pathlib import Path

import views
from views.menu import CATEGORIES, MENU_ORDER

VIEWS_DIR = Path(views.__file__).parent


def _modules_on_disk() -> set[str]:
    names = set()
    for path in VIEWS_DIR.rglob("*.py"):
        parts = path.relative_to(VIEWS_DIR.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not parts[-1].startswith("_"):
            names.add(".".join(parts))
    return names - {"views"}


def test_every_module_of_views_is_loaded():
    views.load_all()
    assert set(views.module_names()) == _modules_on_disk()
    assert all(name in sys.modules for name in _modules_on_disk())


def test_modules_load_in_menu_order_then_alphabetically(monkeypatch):
    monkeypatch.setattr(views, "MENU_ORDER", ("views.refbooks.books", "views.admin.journal"))
    names = views.module_names()
    assert names[:2] == ["views.refbooks.books", "views.admin.journal"]
    assert names[2:] == sorted(names[2:])
    assert set(names) == _modules_on_disk()


def test_menu_order_names_only_existing_modules():
    assert set(MENU_ORDER) <= _modules_on_disk()


def test_the_menu_follows_the_categories(app):
    shown = [item.name for item in app.appbuilder.menu.get_list() if item.name in CATEGORIES]
    assert shown == [key for key in CATEGORIES if key in shown]
    assert len(shown) == len(CATEGORIES)
