"""The view registry: one declaration per screen or API, from which come the
menu entry, the FAB registration and the right that governs its permissions
(see `security.sync`). Adding a screen is one `register()` call in its module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from views.menu import CATEGORIES


@dataclass(frozen=True)
class Entry:
    """One registered screen (with a menu item) or API (without)."""

    view: type
    name: str | None = None  # stable menu name, also the FAB menu permission key
    label: object = None
    category: str | None = None
    icon: str = "fa-table"
    apis: tuple[type, ...] = field(default_factory=tuple)


REGISTRY: list[Entry] = []


def register(view: type, *, name: str | None = None, label=None, category: str | None = None,
             icon: str = "fa-table", apis: tuple[type, ...] = ()) -> type:
    """Declare a view (and its APIs); returns the view for use as a decorator target."""
    if category is not None and category not in CATEGORIES:
        raise ValueError(f"unknown menu category {category!r} for {view.__name__}")
    REGISTRY.append(Entry(view, name, label, category, icon, tuple(apis)))
    return view


def menu_position(entry: Entry) -> int:
    """Return the place of an entry's category in `CATEGORIES` (entries without a
    menu last): the menu follows `CATEGORIES`, whatever order modules load in."""
    return list(CATEGORIES).index(entry.category) if entry.category else len(CATEGORIES)


def install(appbuilder) -> None:
    """Add every registered view and API to `appbuilder`, category by category in
    `CATEGORIES` order, and in registry order within a category, and hand the
    security layer each view's menu name and category (`appbuilder.uchet_menus`,
    read by `security.sync`, which does not import the views)."""
    appbuilder.uchet_menus = {entry.view.__name__: (entry.name, entry.category)
                              for entry in REGISTRY if entry.name}
    for entry in sorted(REGISTRY, key=menu_position):
        if entry.name:
            cat = CATEGORIES[entry.category] if entry.category else None
            instance = appbuilder.add_view(
                entry.view,
                entry.name,
                label=entry.label,
                icon=entry.icon,
                category=entry.category or "",
                category_label=cat["label"] if cat else "",
                category_icon=cat["icon"] if cat else "",
            )
        else:
            instance = appbuilder.add_view_no_menu(entry.view)
        if getattr(entry.view, "is_user_view", False):
            appbuilder.sm.user_view = instance
        for api in entry.apis:
            appbuilder.add_api(api)
