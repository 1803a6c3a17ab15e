"""What the rights matrix page needs, apart from the view: the roles chosen, the
rights shown (a section, or a search by name across sections), the stored values
and the dependency data the page's script enforces as you choose."""

from __future__ import annotations

from flask import request
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select

from models.rights import RoleRight
from security.catalogue import Catalogue, Right
from security.effective import right_label


def chosen_roles(roles: list[Role], admin_role: str) -> list[Role]:
    """Return the roles named by the `roles` query arguments (ids; "all" for every
    role), else the first editable one: one role at a time unless asked."""
    wanted = request.values.getlist("roles")
    if "all" in wanted:
        return roles
    ids = {int(v) for v in wanted if v.isdigit()}
    chosen = [role for role in roles if role.id in ids]
    if chosen:
        return chosen
    editable = [role for role in roles if role.name != admin_role]
    return editable[:1] or roles[:1]


def shown_rights(catalogue: Catalogue, section: str, query: str) -> list[Right]:
    """Return the rights of `section`, or, with a search text, every right whose
    name (in the request's language) or section name contains it."""
    if not query:
        return catalogue.section_rights(section)
    needle = query.casefold()
    return [right for right in catalogue.rights.values()
            if needle in right_label(right.code).casefold()
            or needle in right.ru.casefold()]


def stored_values(session, roles: list[Role]) -> dict[int, dict[str, str]]:
    """Return {role id: {code: value}} of the roles' stored rights."""
    stored: dict[int, dict[str, str]] = {role.id: {} for role in roles}
    rows = session.execute(select(RoleRight.role_id, RoleRight.code, RoleRight.value)
                           .where(RoleRight.role_id.in_(list(stored))))
    for role_id, code, value in rows:
        stored[role_id][code] = value
    return stored


def dependency_data(catalogue: Catalogue, roles: list[Role],
                    stored: dict[int, dict[str, str]]) -> dict:
    """Return what the page's script needs to enforce dependencies as you choose:
    every right taking part in one (its values in order, labels, requirements) and
    the chosen roles' values of those rights (also of rights not on the page)."""
    involved = set()
    for right in catalogue.rights.values():
        for dep in right.depends:
            involved |= {right.code, dep.right}
    rights = {}
    for code in sorted(involved):
        right = catalogue.rights[code]
        if right.kind == "number":
            continue
        rights[code] = {
            "label": right_label(code),
            "values": list(right.values),
            "labels": {v: right_label(code, v) for v in right.values},
            "depends": [{"right": d.right, "min": d.min, "when": d.when}
                        for d in right.depends if catalogue.rights[d.right].kind != "number"],
        }
    values = {str(role.id): {code: stored.get(role.id, {}).get(code,
                                                               catalogue.rights[code].default)
                             for code in rights} for role in roles}
    return {"rights": rights, "values": values,
            "roles": {str(role.id): role.name for role in roles}}


def changed_cells(form, roles: list[Role], stored: dict[int, dict[str, str]],
                  catalogue: Catalogue) -> dict[int, dict[str, str]]:
    """Return {role id: {code: value}} of the posted cells `v:<role>:<code>` that
    differ from the stored values (a dependency may post a right of another section)."""
    known = {role.id for role in roles}
    changes: dict[int, dict[str, str]] = {}
    for key, raw in form.items():
        parts = key.split(":")
        if len(parts) != 3 or parts[0] != "v" or not parts[1].isdigit():
            continue
        role_id, code = int(parts[1]), parts[2]
        if role_id not in known or code not in catalogue.rights:
            continue
        value = raw.strip()
        if value != stored.get(role_id, {}).get(code, catalogue.rights[code].default):
            changes.setdefault(role_id, {})[code] = value
    return changes
