"""Uchet's FAB security manager.

It overrides FAB's hooks, not its internals: permission checks and menu access
read the per-request `EffectiveRights` (two queries, however many checks a page
makes) instead of one query per check; the schema is left to Alembic; and only
the security views Uchet wants are registered (FAB's raw permission editors
would let rights drift from the catalogue).
"""

from __future__ import annotations

from flask import current_app, g
from flask_appbuilder.security.sqla.manager import SecurityManager

from models.user import AppUser
from security import effective, sessions, throttle, totp


class UchetSecurityManager(SecurityManager):
    """Security manager backed by the rights catalogue."""

    user_model = AppUser

    @classmethod
    def use_views(cls, *, users: type, reset_password: type, user_info_edit: type,
                  reset_my_password: type | None = None,
                  security_api: type | None = None) -> None:
        """Take Uchet's own user, password and profile screens (they add scope checks
        and Russian labels) in place of FAB's: the app factory hands them over, so
        the security layer never imports the views."""
        cls.userdbmodelview = users
        cls.resetpasswordview = reset_password
        cls.userinfoeditview = user_info_edit
        if reset_my_password is not None:
            cls.resetmypasswordview = reset_my_password
        if security_api is not None:
            # The REST login that also asks for the second factor (views.admin.totp_api).
            cls.security_api = security_api

    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        # FAB's constructor gives the user view a plain interface; ours eager-loads.
        make = getattr(self.userdbmodelview, "make_datamodel", None)
        if make is not None:
            self.userdbmodelview.datamodel = make()

    # --- sessions and tokens (see security.sessions) ------------------------
    def load_user(self, pk):
        """Return the user of a session identity "id:epoch", or None when the user
        is inactive or the session was ended (logout, password, deactivation...)."""
        ident = sessions.parse_identity(pk)
        if ident is None:
            return None
        user = self.get_user_by_id(ident[0])
        return user if sessions.matches(user, ident[1]) else None

    def load_user_jwt(self, _jwt_header, jwt_data):
        """Return the user of a JWT (access or refresh), or None (401) when its
        epoch claim is not the user's current one, or when it was issued without
        the second factor's code to a user who must give one."""
        sub = str(jwt_data.get("sub", ""))
        user = self.get_user_by_id(int(sub)) if sub.isdigit() else None
        if not sessions.matches(user, jwt_data.get("epoch")):
            return None
        if totp.token_lacks_code(user, jwt_data):
            return None
        g.user = user
        return user

    def create_jwt_manager(self, app):
        """FAB's JWT manager; every token it issues carries the user's epoch."""
        jwt_manager = super().create_jwt_manager(app)
        jwt_manager.additional_claims_loader(self._jwt_claims)
        return jwt_manager

    def _jwt_claims(self, identity) -> dict:
        user = self.get_user_by_id(int(identity)) if str(identity).isdigit() else None
        return {"epoch": user.session_epoch or 0} if user is not None else {}

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
            # Both doors to a password check share the limits: the form and the API login.
            throttle.install(self.limiter, self.auth_rate_limit,
                             current_app.config.get("AUTH_ACCOUNT_RATE_LIMIT", "5 per 5 minute"),
                             (self.auth_view.blueprint, security_api.blueprint))

    def create_db(self) -> None:
        """Alembic owns the schema; roles and permissions come from `flask uchet sync`."""
        return None

    @property
    def auth_role_admin(self) -> str:
        return current_app.config["AUTH_ROLE_ADMIN"]
