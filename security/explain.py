"""Explain access: which rights and which scope decide whether a user may do
something to a view or a row. Used by the admin page and `flask rights explain`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_appbuilder.security.sqla.models import Role
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from models.org import Unit
from models.user import AppUser
from security.catalogue import load_catalogue
from security.effective import SCOPE_RIGHT, resolve
from security.rowscope import scope_column
from security.scope import WRITE, is_scoped, scoped
from security.sync import ACCESS_LEVEL_OF, governed_views, role_values

#: Permissions that change a stored row (FAB's screen and API names).
WRITING = frozenset({"can_edit", "can_delete", "muldelete", "can_put"})


#: FAB permission names as people say them (the explanation never shows the codes).
PERMISSION_WORDS = {
    "can_list": _l("просмотр списка"), "can_show": _l("просмотр"), "can_edit": _l("изменение"),
    "can_add": _l("создание"), "can_delete": _l("удаление"), "muldelete": _l("удаление"),
    "can_get": _l("чтение через API"), "can_put": _l("изменение через API"),
    "can_post": _l("создание через API"), "can_export": _l("выгрузка"),
}


def permission_word(permission: str) -> str:
    """Return what a FAB permission lets a person do, in words."""
    return str(PERMISSION_WORDS.get(permission, _l("действие на экране")))


@dataclass
class Explanation:
    """The verdict and the reasons behind it, in the order they were applied, and the
    facts a one-sentence answer names (`services.admin.access.sentence`)."""

    allowed: bool
    lines: list[str] = field(default_factory=list)
    user: object = None
    rights: object = None
    right: str | None = None          # the deciding right's code
    value: str | None = None          # its merged value for the user
    needed: str | None = None         # the level the action needs
    roles_giving: list[str] = field(default_factory=list)
    row: object = None
    unit: object = None
    in_scope: bool | None = None
    writable: bool | None = None
    missing_row: bool = False


def _view_by_name(name: str):
    for view in current_app.appbuilder.baseviews:
        if view.class_permission_name == name or type(view).__name__ == name:
            return view
    return None


def _row(session, model, pk: str):
    """Return the row of `model` whose primary key is `pk`, or None (also for a key that
    is not of the key's type: PostgreSQL would refuse to compare it)."""
    try:
        key = sa_inspect(model).primary_key[0].type.python_type(pk)
    except (TypeError, ValueError, NotImplementedError):
        return None
    return session.get(model, key)


def explain(session, username: str, view_name: str, permission: str,
            pk: str | None = None, label: str | None = None) -> Explanation:
    """Return why `username` may or may not use `permission` on `view_name` (and row `pk`).

    Raises LookupError (with a Russian message) for an unknown user or view.
    """
    user = session.scalar(select(AppUser).where(AppUser.username == username))
    if user is None:
        raise LookupError(_("Пользователь «%(name)s» не найден", name=username))
    view = _view_by_name(view_name)
    if view is None:
        raise LookupError(_("Экран «%(name)s» не найден", name=view_name))
    catalogue = load_catalogue()
    rights = resolve(session, user)
    out = Explanation(allowed=False, user=user, rights=rights)
    screen = label or str(getattr(view, "list_title", None) or _("экран без названия"))
    out.lines.append(_("Пользователь: %(u)s; роли: %(r)s", u=user.username,
                       r=", ".join(sorted(rights.roles)) or _("нет")))
    if not user.active:
        out.lines.append(_("Учётная запись отключена: доступ запрещён"))
        return out
    perm_name = view.class_permission_name
    granted = rights.can(permission, perm_name)
    governed = {g.name: g for g in governed_views(current_app.appbuilder)}.get(perm_name)
    if rights.is_admin:
        out.lines.append(_("Роль администратора получает все разрешения"))
    elif governed is None:
        out.lines.append(_("Экраном не управляет ни одно право каталога: доступ только у "
                           "администратора"))
    else:
        right = catalogue.rights[governed.right]
        needed = governed.levels.get(permission) or ACCESS_LEVEL_OF.get(permission)
        out.lines.append(_("Экраном управляет право «%(r)s» (%(s)s)", r=right.ru,
                           s=catalogue.sections[right.section].ru))
        code = governed.right_of(permission)
        out.right, out.value = code, rights.value(code)
        out.needed = needed if catalogue.rights[code].kind == "access" else None
        for role in session.scalars(select(Role).where(Role.name.in_(rights.roles))):
            value = role_values(session, role).get(right.code, right.default)
            out.lines.append(_("— роль «%(role)s»: %(v)s", role=role.name,
                               v=catalogue.label(right.code, value)))
            if role_values(session, role).get(code, catalogue.rights[code].default) \
                    == out.value:
                out.roles_giving.append(role.name)
        if right.kind == "access" and needed:
            out.lines.append(_("Для действия «%(p)s» нужен уровень не ниже «%(l)s»",
                               p=permission_word(permission),
                               l=catalogue.label(right.code, needed)))
    out.lines.append(_("Действие «%(p)s» на экране «%(v)s»: %(verdict)s",
                       p=permission_word(permission), v=screen,
                       verdict=_("разрешено") if granted else _("не разрешено")))
    out.allowed = granted
    if pk is None or not granted:
        return out
    datamodel = getattr(view, "datamodel", None)
    if datamodel is None:
        out.lines.append(_("Записи этого экрана не привязаны к подразделениям"))
        return out
    model = datamodel.obj
    column = scope_column(model)
    row = _row(session, model, pk)
    if row is None:
        out.lines.append(_("Запись %(pk)s не существует", pk=pk))
        out.allowed = False
        out.missing_row = True
        return out
    out.row = row
    if not is_scoped(model):
        out.lines.append(_("Записи этого экрана не привязаны к подразделениям"))
        return out
    owner = getattr(row, "scope_owner_unit_id", None)
    unit_id = owner() if callable(owner) else (owner if owner is not None else getattr(row, column))
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    out.unit = unit
    choices = rights.values.get(SCOPE_RIGHT)
    labels = ", ".join(catalogue.label(SCOPE_RIGHT, c) for c in sorted(choices or []))
    out.lines.append(_("Область данных: %(s)s", s=labels or _("нет")))
    visible = session.scalar(
        scoped(select(model.id).where(model.id == row.id), rights)) is not None
    out.lines.append(_("Запись относится к подразделению «%(u)s»: %(v)s",
                       u=unit.name if unit else _("не указано"),
                       v=_("в области данных") if visible else _("вне области данных")))
    out.allowed = visible
    out.in_scope = visible
    if visible and permission in WRITING:
        # Read scope is wider than write scope (a network's shared rows, a network
        # contract a branch serves): a change needs the row among the user's own.
        writable = session.scalar(
            scoped(select(model.id).where(model.id == row.id), rights, WRITE)) is not None
        if not writable:
            out.lines.append(_("Запись доступна только для чтения: она принадлежит "
                               "вышестоящему или другому подразделению"))
        out.allowed = writable
        out.writable = writable
    return out
