"""Every permission a screen or API exposes under an access-level right has a level
it was given on purpose. A permission missing from FAB's standard table and from the
view's `permission_levels` falls to the top level («удаление»), so an endpoint meant
for «изменение» would be refused to everyone below the top — a mistake no role with
«удаление» would ever notice."""

from __future__ import annotations

from security.catalogue import load_catalogue
from security.sync import ACCESS_LEVEL_OF, SELF_SERVICE, governed_views


def test_every_permission_under_an_access_right_has_a_declared_level(app):
    catalogue = load_catalogue()
    undeclared = []
    for view in governed_views(app.appbuilder):
        if catalogue.rights[view.right].kind != "access":
            continue
        for permission in sorted(view.permissions):
            right = view.right_of(permission)
            if catalogue.rights[right].kind != "access":
                continue
            if (permission, view.name) in SELF_SERVICE:
                continue  # one's own profile and password: every user holds them
            if permission not in ACCESS_LEVEL_OF and permission not in view.levels:
                undeclared.append(f"{view.name}.{permission}")
    assert undeclared == [], undeclared
