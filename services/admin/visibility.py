"""What a user can see, summarised for the administrator: the units of his data
scope (and how many units that is), the client organisations in it and the
sections and screens his roles open. Read-only."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.org import CLIENT_KINDS, Unit, UnitKind
from security.effective import SCOPE_RIGHT, resolve, right_label


@dataclass
class Visibility:
    """The summary: scope in words, anchors, unit count, clients, sections → screens."""

    scope: str
    anchors: list[str] = field(default_factory=list)
    units: int = 0
    clients: list[str] = field(default_factory=list)
    sections: dict[str, list[str]] = field(default_factory=dict)
    roles: list[str] = field(default_factory=list)


def summary(session: Session, user, screens) -> Visibility:
    """Return what `user` sees today; `screens` are the registry's (label «Раздел →
    Экран», permission name) as `views.admin.screens.screens` returns them."""
    rights = resolve(session, user)
    choices = rights.value(SCOPE_RIGHT)
    choices = choices if isinstance(choices, frozenset) else {choices}
    words = ", ".join(right_label(SCOPE_RIGHT, c).lower() for c in sorted(choices))
    scope = rights.scope
    result = Visibility(scope=words if rights.roles else _("нет ролей: ничего не видит"),
                        roles=sorted(rights.roles))
    in_scope = select(Unit.id) if scope.all else scope.unit_ids()
    if rights.roles and in_scope is not None:
        result.units = session.scalar(select(func.count()).select_from(Unit)
                                      .where(Unit.id.in_(in_scope))) or 0
        client_kinds = [k.value for k in CLIENT_KINDS if k != UnitKind.client_branch]
        result.clients = list(session.scalars(
            select(Unit.name).where(Unit.id.in_(in_scope), Unit.kind.in_(client_kinds),
                                    Unit.parent_id.is_(None)).order_by(Unit.name)))
    if scope.all:
        result.anchors = [_("все подразделения")]
    else:
        for unit_id in sorted(scope.subtree):
            unit = session.get(Unit, unit_id)
            result.anchors.append(_("%(name)s и подчинённые", name=unit.name))
        for unit_id in sorted(scope.exact - scope.subtree):
            result.anchors.append(session.get(Unit, unit_id).name)
    for screen in screens:
        if any(view == screen.name for _perm, view in rights.permissions):
            section, _sep, name = screen.label.rpartition(" → ")
            result.sections.setdefault(section or _("Прочее"), []).append(name)
    return result
