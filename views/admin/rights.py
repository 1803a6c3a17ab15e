"""Roles and rights administration: the roles x rights matrix by catalogue section,
copy / reset / create / delete a role, the history of a role's rights and the
"explain access" page. The view only parses forms; services.admin.rights decides.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.sqla.models import Role, assoc_user_role
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from models.rights import RoleProfile
from models.user import AppUser
from security.catalogue import load_catalogue
from security.effective import right_label
from security.explain import explain
from security.presets import load_presets
from services.admin import history
from services.admin import rights as rights_service
from services.admin.access import find_records, sentence
from services.admin.drift import drift_counts
from views.admin import matrix as matrix_page
from views.admin.rights_tools import user_label
from views.admin.screens import ACTIONS, action_words, screens
from views.base import screen_command
from views.registry import register

SIDE_LABELS = {"back_office": _l("Бэк-офис"), "cabinet": _l("Личный кабинет")}


class RightsView(BaseView):
    """Administration of roles and their rights (right «Роли и права доступа»)."""

    route_base = "/rights"
    default_view = "roles"
    governing_right = "admin.rights"

    def _db(self):
        return self.appbuilder.session

    def _roles(self) -> list[Role]:
        return list(self._db().scalars(
            select(Role).where(Role.name != "Public").order_by(Role.name)
        ))

    def _run(self, command, success, back):
        """Run a role command (one transaction); flash `success(result)` or the
        refusal, then go `back`."""
        def done(result):
            flash(success(result), "success")
            return back
        return screen_command(command, self._db(), done=done, again=lambda _exc: back)

    @expose("/")
    @has_access
    def roles(self):
        """The list of roles with their side, preset and number of users."""
        counts = dict(self._db().execute(
            select(assoc_user_role.c.role_id, func.count()).group_by(assoc_user_role.c.role_id)
        ).all())
        profiles = {p.role_id: p for p in self._db().scalars(select(RoleProfile))}
        return self.render_template(
            "uchet/rights_roles.html",
            roles=self._roles(), counts=counts, profiles=profiles, side_labels=SIDE_LABELS,
            presets=load_presets(), admin_role=self.appbuilder.sm.auth_role_admin,
            drift=drift_counts(self._db()),
        )

    @expose("/matrix", methods=["GET", "POST"])
    @has_access
    def matrix(self):
        """The chosen roles' rights of one catalogue section (or those whose name
        matches the search); POST saves the changed cells of any role."""
        catalogue = load_catalogue()
        section = request.values.get("section") or next(iter(catalogue.sections))
        if section not in catalogue.sections:
            flash(_("Неизвестный раздел каталога"), "danger")
            return redirect(url_for(".matrix"))
        query = (request.values.get("q") or "").strip()
        all_roles = self._roles()
        admin_role = self.appbuilder.sm.auth_role_admin
        roles = matrix_page.chosen_roles(all_roles, admin_role)
        back = url_for(".matrix", section=section, q=query or None,
                       roles=[r.id for r in roles])
        if request.method == "POST":
            stored = matrix_page.stored_values(self._db(), all_roles)
            changes = matrix_page.changed_cells(request.form, all_roles, stored, catalogue)
            return self._run(lambda: rights_service.save_matrix(self._db(), changes),
                             lambda n: _("Сохранено изменений: %(n)s", n=n), redirect(back))
        stored = matrix_page.stored_values(self._db(), roles)
        return self.render_template(
            "uchet/rights_matrix.html",
            catalogue=catalogue, section=section, query=query,
            rights=matrix_page.shown_rights(catalogue, section, query),
            roles=roles, all_roles=all_roles, stored=stored, admin_role=admin_role,
            deps=matrix_page.dependency_data(catalogue, roles, stored), label=right_label,
            profiles={p.role_id: p for p in self._db().scalars(select(RoleProfile))},
        )

    @expose("/role/new", methods=["POST"])
    @has_access
    def create(self):
        """Create a role, optionally from a preset."""
        return self._run(lambda: rights_service.create_role(
            self._db(), request.form.get("name", ""), request.form.get("side", "back_office"),
            request.form.get("preset") or None),
            lambda role: _("Роль «%(name)s» создана", name=role.name),
            redirect(url_for(".roles")))

    @expose("/role/<int:role_id>/copy", methods=["POST"])
    @has_access
    def copy(self, role_id: int):
        """Copy a role with all its rights under a new name."""
        return self._run(lambda: rights_service.copy_role(self._db(), role_id,
                                                          request.form.get("name", "")),
                         lambda role: _("Создана копия: «%(name)s»", name=role.name),
                         redirect(url_for(".roles")))

    @expose("/role/<int:role_id>/reset", methods=["POST"])
    @has_access
    def reset(self, role_id: int):
        """Reset every right of a role to a preset's value."""
        return self._run(lambda: rights_service.reset_role(self._db(), role_id,
                                                           request.form.get("preset", "")),
                         lambda n: _("Права роли приведены к шаблону, изменений: %(n)s", n=n),
                         redirect(url_for(".roles")))

    @expose("/role/<int:role_id>/delete", methods=["POST"])
    @has_access
    def delete(self, role_id: int):
        """Delete a role that no user holds."""
        return self._run(lambda: rights_service.delete_role(self._db(), role_id),
                         lambda _none: _("Роль удалена"), redirect(url_for(".roles")))

    @expose("/role/<int:role_id>/history")
    @has_access
    def history(self, role_id: int):
        """The journaled changes of a role's rights, with before and after values."""
        role = self._db().get(Role, role_id)
        if role is None:
            return self.render_template("uchet/error.html", code=404,
                                        message=_("Роль не найдена")), 404
        return self.render_template(
            "uchet/rights_history.html", role=role, catalogue=load_catalogue(),
            changes=history.changes(self._db(), role_id), lines=history.lines,
            kind_label=history.kind_label, editable=role.name != self.appbuilder.sm.auth_role_admin,
            history=rights_service.role_history(self._db(), role_id),
        )

    @expose("/explain")
    @has_access
    def explain(self):
        """The access check in people's terms: a user by name, a screen by its label,
        an action by its word, a record found by searching; the answer is a sentence."""
        session = self._db()
        all_screens = screens(self.appbuilder)
        by_name = {screen.name: screen for screen in all_screens}
        users = list(session.scalars(select(AppUser).order_by(AppUser.last_name,
                                                              AppUser.first_name)))
        args = request.args
        view_name = args.get("view") or ""
        action = args.get("permission") or "view"
        screen = by_name.get(view_name)
        label = screen.label if screen else None
        pk = args.get("pk") or None
        found = []
        if screen is not None and args.get("record_q") and not pk:
            view = next((v for v in self.appbuilder.baseviews
                         if v.class_permission_name == view_name), None)
            found = find_records(session, screen.model, args["record_q"],
                                 list(getattr(view, "search_columns", None) or []))
        if action in ACTIONS:
            permission = ACTIONS[action][0 if pk else 1]
        else:  # a permission name (the command line's and older links' form)
            permission = action
            action = next((a for a, perms in ACTIONS.items() if permission in perms), "view")
        result, error, answer = None, None, None
        if args.get("user") and view_name and not found:
            try:
                result = explain(session, args["user"], view_name, permission, pk, label=label)
                answer = sentence(result, label or view_name, action)
            except LookupError as exc:
                error = str(exc)
        return self.render_template(
            "uchet/rights_explain.html", users=users, screens=all_screens, args=args,
            action=action, actions=action_words(), found=found, result=result, error=error,
            answer=answer, user_label=user_label,
        )


register(RightsView, name="Rights", label=_l("Роли и права доступа"), category="admin",
         icon="fa-key")
