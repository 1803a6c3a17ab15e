"""Role tools beside the matrix: drift from the preset (and putting rights back),
rollback to a past state from the history, and the what-if preview of drafted
values for one user. Under the right «Роли и права доступа», like the matrix."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.sqla.models import Role, assoc_user_role
from flask_babel import gettext as _
from sqlalchemy import select

from models.user import AppUser
from security.catalogue import RightValueError, load_catalogue
from security.effective import right_label
from services.admin import drift as drift_service
from services.admin import history as history_service
from services.admin.whatif import preview
from views.admin import matrix as matrix_page
from views.admin.screens import governing_rights, screens
from views.base import screen_command
from views.registry import register


def value_label(code: str, value: str) -> str:
    """Return a drafted value's label, or the value as typed when the catalogue refuses it."""
    try:
        return right_label(code, value)
    except (RightValueError, KeyError):
        return value


def user_label(user: AppUser) -> str:
    """Return a user as people name him: «Фамилия Имя (Должность)»."""
    name = " ".join(p for p in (user.last_name, user.first_name) if p) or user.username
    return f"{name} ({user.position})" if getattr(user, "position", None) else name


class RoleToolsView(BaseView):
    """Drift, rollback and what-if of roles (right «Роли и права доступа»)."""

    route_base = "/rights"
    default_view = "whatif"
    governing_right = "admin.rights"

    def _db(self):
        return self.appbuilder.session

    def _role_or_404(self, role_id: int):
        role = self._db().get(Role, role_id)
        if role is None:
            return None, (self.render_template("uchet/error.html", code=404,
                                               message=_("Роль не найдена")), 404)
        return role, None

    def _run(self, command, success, back):
        def done(result):
            flash(success(result), "success")
            return back
        return screen_command(command, self._db(), done=done, again=lambda _exc: back)

    @expose("/role/<int:role_id>/drift")
    @has_access
    def drift(self, role_id: int):
        """The rights where the role differs from the preset it was made from."""
        role, missing = self._role_or_404(role_id)
        if missing:
            return missing
        return self.render_template(
            "uchet/rights_drift.html", role=role,
            preset=drift_service.origin(self._db(), role),
            rows=drift_service.drift(self._db(), role),
            editable=role.name != self.appbuilder.sm.auth_role_admin)

    @expose("/role/<int:role_id>/drift/reset", methods=["POST"])
    @has_access
    def drift_reset(self, role_id: int):
        """Put one right (`code`) or every differing right back to the preset."""
        code = request.form.get("code") or None
        return self._run(
            lambda: drift_service.reset_to_origin(self._db(), role_id,
                                                  [code] if code else None),
            lambda n: _("Возвращено к шаблону прав: %(n)s", n=n),
            redirect(url_for(".drift", role_id=role_id)))

    @expose("/role/<int:role_id>/rollback/<int:change_id>", methods=["POST"])
    @has_access
    def rollback(self, role_id: int, change_id: int):
        """Restore the role's rights as they were before (or after) a saved change."""
        state = request.form.get("state", "before")
        return self._run(
            lambda: history_service.rollback(self._db(), role_id, change_id, state),
            lambda n: _("Права роли восстановлены, изменено прав: %(n)s", n=n),
            redirect(url_for("RightsView.history", role_id=role_id)))

    @expose("/whatif", methods=["GET", "POST"])
    @has_access
    def whatif(self):
        """Drafted values (the matrix's unsaved cells) and a user: what would change
        for him. Writes nothing; «Сохранить» posts the same draft to the matrix."""
        session = self._db()
        catalogue = load_catalogue()
        all_roles = list(session.scalars(select(Role).where(Role.name != "Public")))
        stored = matrix_page.stored_values(session, all_roles)
        drafts = matrix_page.changed_cells(request.form, all_roles, stored, catalogue)
        role_ids = list(drafts)
        users = list(session.scalars(
            select(AppUser).join(assoc_user_role, assoc_user_role.c.user_id == AppUser.id)
            .where(assoc_user_role.c.role_id.in_(role_ids)).distinct()
            .order_by(AppUser.last_name, AppUser.first_name))) if role_ids else []
        chosen = request.form.get("user", type=int)
        user = next((u for u in users if u.id == chosen), users[0] if users else None)
        result, error = None, None
        if user is not None:
            try:
                result = preview(session, user, drafts, screens(self.appbuilder),
                                 governing_rights(self.appbuilder))
            except RightValueError:
                error = _("В черновике есть недопустимое значение права")
        roles = {r.id: r.name for r in all_roles}
        lines = [(roles[role_id], catalogue.rights[code], stored[role_id].get(
            code, catalogue.rights[code].default), value)
            for role_id, cells in drafts.items() for code, value in cells.items()]
        return self.render_template(
            "uchet/rights_whatif.html", drafts=drafts, lines=lines, users=users, user=user,
            result=result, error=error, user_label=user_label, value_label=value_label,
            label=right_label)


register(RoleToolsView)
