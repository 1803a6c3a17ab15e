"""Who may manage whom: a user administrator without «Роли и права доступа»
may only edit, reset the password of or delete users whose permissions are a
subset of his own. Otherwise he could take over an administrator's account
(reset its password, log in as it) without ever touching a role."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import ScopeError
from models.rights import RoleRight
from security.effective import _permissions_query, current


def _holds_rights_admin(session, user) -> bool:
    role_ids = [role.id for role in user.roles]
    if not role_ids:
        return False
    return session.scalar(
        select(RoleRight.id).where(RoleRight.role_id.in_(role_ids),
                                   RoleRight.code == "admin.rights", RoleRight.value == "yes")
    ) is not None


def manageable(session, target) -> bool:
    """Return True when the current user may manage `target`'s account."""
    rights = current()
    if rights.allows("admin.rights"):
        return True
    if target.id is None:
        return True
    if any(role.name == _admin_role() for role in target.roles):
        return False
    if _holds_rights_admin(session, target):
        return False
    theirs = set(session.execute(_permissions_query(target.id)).all())
    return theirs <= set(rights.permissions)


def check_manageable(session, target) -> None:
    """Raise ScopeError (Russian) when the current user may not manage `target`."""
    if not manageable(session, target):
        raise ScopeError(_("У пользователя «%(name)s» есть права, которых нет у вас: "
                           "изменить его может только администратор прав",
                           name=target.username))


def _admin_role() -> str:
    from flask import current_app

    return current_app.config["AUTH_ROLE_ADMIN"]
