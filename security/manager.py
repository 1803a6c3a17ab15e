"""Uchet's FAB security manager.

It overrides FAB's hooks, not its internals: permission checks and menu access
read the per-request `EffectiveRights` (two queries, however many checks a page
makes) instead of one query per check; the schema is left to Alembic; and only
the security views Uchet wants are registered (FAB's raw permission editors
would let rights drift from the catalogue).
"""

from __future__ import annotations

from flask import current_app
from flask_appbuilder.security.sqla.manager import SecurityManager

from models.user import AppUser
from security import effective


class UchetSecurityManager(SecurityManager):
    """Security manager backed by the rights catalogue."""

    user_model = AppUser

    @classmethod
    def use_views(cls, *, users: type, reset_password: type, user_info_edit: type) -> None:
        """Take Uchet's own user, password and profile screens (they add scope checks
        and Russian labels) in place of FAB's: the app factory hands them over, so
        the security layer never imports the views."""
        cls.userdbmodelview = users
        cls.resetpasswordview = reset_password
        cls.userinfoeditview = user_info_edit

    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        # FAB's constructor gives the user view a plain interface; ours eager-loads.
        make = getattr(self.userdbmodelview, "make_datamodel", None)
        if make is not None:
            self.userdbmodelview.datamodel = make()

    # --- permission checks -------------------------------------------------
    def has_access(self, permission_name: str, view_name: str) -> bool:
        """Return True when the current user may use `permission_name` on `view_name`."""
        # Anonymous visitors hold no permission at all: the Public role stays empty
        # (login, static files and language switching are not permission-guarded).
        return effective.current().can(permission_name, view_name)

    def is_item_public(self, permission_name: str, view_name: str) -> bool:
        """The anonymous role holds nothing (no query needed to say so)."""
        return False

    def get_user_menu_access(self, menu_names: list[str] | None = None) -> set[str]:
        """Return the menu names the current user may see (no extra query)."""
        rights = effective.current()
        names = menu_names or []
        return {name for name in names if rights.can("menu_access", name)}

    # --- views ----------------------------------------------------------------
    def register_views(self) -> None:
        """Register login, own-profile and password views; users and roles come
        from Uchet's view registry, FAB's raw permission editors are left out."""
        appbuilder = self.appbuilder
        security_api = appbuilder.add_api(self.security_api)
        appbuilder.add_view_no_menu(self.userinfoeditview())
        appbuilder.add_view_no_menu(self.resetpasswordview())
        appbuilder.add_view_no_menu(self.resetmypasswordview())
        self.auth_view = self.authdbview()
        appbuilder.add_view_no_menu(self.auth_view)
        if self.is_auth_limited:
            # Both doors to a password check share the limit: the form and the API login.
            for blueprint in (self.auth_view.blueprint, security_api.blueprint):
                self.limiter.limit(self.auth_rate_limit, methods=["POST"])(blueprint)

    def create_db(self) -> None:
        """Alembic owns the schema; roles and permissions come from `flask uchet sync`."""
        return None

    @property
    def auth_role_admin(self) -> str:
        return current_app.config["AUTH_ROLE_ADMIN"]
