"""The access check's answer in one sentence, in people's terms: who, may or may
not, do what to which record, because of which right and value, which data scope
and where the record sits in the organisation tree. No class names, no codes."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import String, or_, select
from sqlalchemy import inspect as sa_inspect

from security.effective import SCOPE_RIGHT, right_label
from security.explain import Explanation

VERBS = {
    "view": (lambda: _("видит"), lambda: _("не видит")),
    "edit": (lambda: _("может изменить"), lambda: _("не может изменить")),
    "create": (lambda: _("может создавать"), lambda: _("не может создавать")),
    "delete": (lambda: _("может удалить"), lambda: _("не может удалить")),
}


def unit_path(unit) -> str:
    """Return the unit's place in the tree, «Сеть → Регион → Филиал», from the top."""
    names = []
    while unit is not None:
        names.append(unit.name)
        unit = unit.parent
    return " → ".join(reversed(names))


def _who(expl: Explanation) -> str:
    user = expl.user
    roles = expl.roles_giving or sorted(expl.rights.roles) if expl.rights else []
    name = " ".join(p for p in (user.last_name, user.first_name) if p) or user.username
    return f"{roles[0]} {name}" if roles else name


def sentence(expl: Explanation, screen: str, action: str) -> str:
    """Return the answer as one sentence, e.g. «Регистратор Петрова Анна видит
    «№ 203 от 07.12.2026» (экран «Документы → Талоны»): право «…» = просмотр,
    данные: своё подразделение, запись в подразделении Сеть → … → Филиал «Тверской»»."""
    yes, no = VERBS.get(action, VERBS["view"])
    verb = yes() if expl.allowed else no()
    if expl.row is not None:
        what = _("«%(row)s» (экран «%(screen)s»)", row=expl.row, screen=screen)
    else:
        what = _("записи экрана «%(screen)s»", screen=screen)
    reasons = []
    rights = expl.rights
    if not getattr(expl.user, "active", True):
        reasons.append(_("учётная запись отключена"))
    elif rights is not None and rights.is_admin:
        reasons.append(_("роль администратора имеет все права"))
    elif expl.right is None:
        reasons.append(_("экраном пользуется только администратор"))
    else:
        part = _("право «%(right)s» = %(value)s", right=right_label(expl.right),
                 value=right_label(expl.right, expl.value))
        if expl.needed and not expl.allowed and expl.in_scope is None:
            part += " " + _("(нужно не ниже «%(level)s»)",
                            level=right_label(expl.right, expl.needed))
        reasons.append(part)
    if expl.missing_row:
        reasons.append(_("запись не найдена"))
    if expl.in_scope is not None and rights is not None:
        choices = rights.value(SCOPE_RIGHT)
        choices = choices if isinstance(choices, frozenset) else {choices}
        scope = ", ".join(right_label(SCOPE_RIGHT, c).lower() for c in sorted(choices))
        reasons.append(_("данные: %(scope)s", scope=scope))
        if expl.unit is not None:
            reasons.append(_("запись в подразделении %(path)s", path=unit_path(expl.unit)))
        if expl.writable is False:
            reasons.append(_("запись только для чтения: она принадлежит другому подразделению"))
    return f"{_who(expl)} {verb} {what}: {', '.join(reasons)}"


def find_records(session, model, text: str, columns: list[str], limit: int = 20) -> list:
    """Return up to `limit` rows of `model` whose text columns among `columns`
    contain `text`, or whose number is `text` ([] for an empty text)."""
    text = (text or "").strip()
    if not text or model is None:
        return []
    mapper = sa_inspect(model)
    conditions = []
    for name in columns:
        attr = mapper.columns.get(name)
        if attr is not None and isinstance(attr.type, String):
            conditions.append(getattr(model, name).ilike(f"%{text}%"))
    digits = text.lstrip("№ ").strip()
    if digits.isdigit():
        conditions.append(model.id == int(digits))
    if not conditions:
        return []
    return list(session.scalars(select(model).where(or_(*conditions)).order_by(model.id)
                                .limit(limit)))
