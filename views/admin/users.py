"""Users and their organisation links; FAB's password and profile views, scoped."""

from __future__ import annotations

import datetime

from flask import abort, g, request
from flask_appbuilder import expose, has_access
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.models.sqla.filters import FilterNotEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.forms import ResetPasswordForm
from flask_appbuilder.security.views import ResetMyPasswordView as FabResetMyPasswordView
from flask_appbuilder.security.views import (
    ResetPasswordView,
    UserDBModelView,
    UserInfoEditView,
)
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash
from wtforms import PasswordField
from wtforms.validators import DataRequired, StopValidation

from models.user import AppUser
from security.effective import current
from security.users import check_manageable, manageable
from views.api import UchetModelRestApi
from views.base import UchetModelView
from views.datamodel import UchetInterface
from views.registry import register

USER_LABELS = {
    "get_full_name": _l("ФИО"),
    "first_name": _l("Имя"),
    "last_name": _l("Фамилия"),
    "username": _l("Логин"),
    "email": _l("Эл. почта"),
    "active": _l("Активен"),
    "roles": _l("Роли"),
    "groups": _l("Группы"),
    "last_login": _l("Последний вход"),
    "login_count": _l("Число входов"),
    "fail_login_count": _l("Неудачных входов"),
    "created_on": _l("Создан"),
    "changed_on": _l("Изменён"),
    "created_by": _l("Кем создан"),
    "changed_by": _l("Кем изменён"),
    "home_unit": _l("Подразделение"),
    "extra_units": _l("Делегированные подразделения"),
    "served_clients": _l("Обслуживаемые клиенты"),
    "manager": _l("Персональный менеджер"),
    "assistants": _l("Ассистенты"),
    "position": _l("Должность"),
    "phone": _l("Телефон"),
    "password": _l("Пароль"),
    "conf_password": _l("Подтверждение пароля"),
}
ORG_FIELDS = ["home_unit", "extra_units", "manager", "served_clients"]
PROFILE = ["first_name", "last_name", "username", "email", "position", "phone", "active"]


class UserView(UchetModelView, UserDBModelView):
    """Users of the home unit scope, with their units, manager links and roles.

    Only holders of "Роли и права доступа" see or change the roles field:
    anyone else could otherwise grant himself (or a colleague) more rights.
    """

    is_user_view = True
    permission_levels = {"resetpasswords": "edit", "can_sees": "view"}
    show_template = "uchet/user_show.html"
    self_actions = frozenset({"resetmypassword", "userinfoedit"})
    governing_right = "admin.users"
    datamodel = None  # set by make_datamodel() in the security manager
    route_base = "/users"

    @classmethod
    def make_datamodel(cls) -> UchetInterface:
        """Return the datamodel; FAB's security manager overwrites the class attribute."""
        return UchetInterface(AppUser, eager=("roles", "home_unit"))

    list_title = _l("Пользователи")
    show_title = _l("Пользователь")
    add_title = _l("Новый пользователь")
    edit_title = _l("Изменение пользователя")
    user_info_title = _l("Мой профиль")
    label_columns = USER_LABELS
    list_columns = ["get_full_name", "username", "home_unit", "roles", "active"]
    search_columns = ["first_name", "last_name", "username", "email", "home_unit", "roles",
                      "active"]
    order_columns = ["username", "active"]
    base_order = ("last_name", "asc")
    show_fieldsets = [
        (_l("Пользователь"), {"fields": [*PROFILE, "roles"]}),
        (_l("Организация"), {"fields": [*ORG_FIELDS, "assistants"]}),
        (_l("Журнал"), {"fields": ["last_login", "login_count", "created_on", "changed_on"],
                        "expanded": False}),
    ]
    user_show_fieldsets = [
        (_l("Пользователь"), {"fields": [*PROFILE, "roles", "home_unit"]}),
    ]
    add_columns = [*PROFILE, "roles", *ORG_FIELDS, "password", "conf_password"]
    # FAB requires roles or groups; Uchet has no groups, and only role editors
    # see the roles field at all.
    validators_columns = {}
    # The anonymous role is never assigned to a person.
    add_form_query_rel_fields = {"roles": [["name", FilterNotEqual, "Public"]]}
    edit_form_query_rel_fields = add_form_query_rel_fields
    edit_columns = [*PROFILE, "roles", *ORG_FIELDS]

    def _role_editor(self) -> bool:
        return current().flag("admin.rights")

    def _without_roles(self, columns: list[str]) -> list[str]:
        return [c for c in columns if c != "roles" or self._role_editor()]

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        exclude = list(exclude_cols or []) + ([] if self._role_editor() else ["roles"])
        return super()._get_add_widget(form, exclude_cols=exclude, widgets=widgets)

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        exclude = list(exclude_cols or []) + ([] if self._role_editor() else ["roles"])
        return super()._get_edit_widget(form, exclude_cols=exclude, widgets=widgets)

    def process_form(self, form, is_created: bool) -> None:
        # A posted "roles" field from someone who may not assign roles is ignored.
        if not self._role_editor() and hasattr(form, "roles"):
            del form.roles
        super().process_form(form, is_created)

    def check_write(self, item) -> None:
        check_manageable(self._session(), item)
        super().check_write(item)

    def check_delete(self, item) -> None:
        check_manageable(self._session(), item)
        super().check_delete(item)

    def pre_add(self, item) -> None:
        UserDBModelView.pre_add(self, item)
        super().pre_add(item)

    def pre_update(self, item) -> None:
        item.changed_on = datetime.datetime.now()
        item.changed_by_fk = g.user.id
        super().pre_update(item)

    @expose("/sees/<int:pk>")
    @has_access
    def sees(self, pk: int):
        """What the user can see: units, clients and sections (a user outside the
        administrator's scope answers 404, like his card)."""
        from services.admin.visibility import summary
        from views.admin.screens import screens

        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return self.render_template(
            "uchet/user_sees.html", user=item, pk=pk,
            summary=summary(self._session(), item, screens(self.appbuilder)))

    @expose("/userinfo/")
    @has_access
    def userinfo(self):
        """Everyone may see his own profile, whatever his data scope."""
        item = self.datamodel.get(g.user.id)
        actions = {
            "resetmypassword": self.actions.get("resetmypassword"),
            "userinfoedit": self.actions.get("userinfoedit"),
        }
        widgets = self._get_show_widget(
            g.user.id, item, actions=actions, show_fieldsets=self.user_show_fieldsets
        )
        self.update_redirect()
        return self.render_template(
            self.show_template, title=self.user_info_title, widgets=widgets,
            appbuilder=self.appbuilder,
        )


class UserApi(UchetModelRestApi):
    """REST API of users (read and profile fields; roles only for role editors)."""

    resource_name = "user"
    governing_right = "admin.users"
    datamodel = SQLAInterface(AppUser)
    list_columns = ["id", "username", "first_name", "last_name", "email", "active",
                    "home_unit_id"]
    show_columns = ["id", "username", "first_name", "last_name", "email", "active",
                    "position", "phone", "home_unit_id", "manager_id", "extra_units.id",
                    "served_clients.id", "roles.name"]
    edit_columns = ["first_name", "last_name", "email", "active", "position", "phone",
                    "home_unit", "extra_units", "served_clients", "manager"]
    add_columns = []
    search_columns = ["username", "first_name", "last_name", "email", "home_unit", "active"]
    order_columns = ["username", "last_name"]
    include_route_methods = {"get", "get_list", "put", "info"}

    def check_write(self, item) -> None:
        check_manageable(self._session(), item)
        super().check_write(item)


class UchetResetPasswordView(ResetPasswordView):
    """An administrator sets another user's password: only for users in scope."""

    form_title = _l("Смена пароля")
    message = _l("Пароль изменён")
    governing_right = "admin.users"
    permission_levels = {"can_this_form_get": "edit", "can_this_form_post": "edit"}

    def _target_in_scope(self) -> None:
        users = self.appbuilder.sm.user_view
        pk = request.args.get("pk")
        target = users.datamodel.get(pk, users._base_filters) if pk else None
        if target is None or not manageable(self.appbuilder.session, target):
            abort(404)

    @expose("/form", methods=["GET"])
    @has_access
    def this_form_get(self):
        self._target_in_scope()
        return super().this_form_get()

    @expose("/form", methods=["POST"])
    @has_access
    def this_form_post(self):
        self._target_in_scope()
        return super().this_form_post()


def _is_current_password(_form, field) -> None:
    """Stop the form's validation with a Russian message unless `field` holds the
    user's current password (a form error, not a business refusal)."""
    hashed = getattr(g.user, "password", None) or ""
    if not field.data or not hashed or not check_password_hash(hashed, field.data):
        raise StopValidation(_l("Текущий пароль указан неверно"))


class OwnPasswordForm(ResetPasswordForm):
    """FAB's password form with the current password: a session left open on a
    shared computer must not be enough to take the account over."""

    current_password = PasswordField(_l("Текущий пароль"),
                                     validators=[DataRequired(), _is_current_password],
                                     widget=BS3PasswordFieldWidget())


class ResetMyPasswordView(FabResetMyPasswordView):
    """A user changes his own password, giving the current one; his other sessions
    and tokens end (security.sessions), the one he does it in goes on.

    It keeps FAB's class name: endpoints and permissions are named after it."""

    form = OwnPasswordForm
    form_title = _l("Смена пароля")
    message = _l("Пароль изменён")


class UchetUserInfoEditView(UserInfoEditView):
    """A user edits his own name; Russian titles."""

    form_title = _l("Изменение данных пользователя")
    message = _l("Данные пользователя изменены")


register(UserView, name="Users", label=_l("Пользователи"), category="admin", icon="fa-user",
         apis=(UserApi,))
