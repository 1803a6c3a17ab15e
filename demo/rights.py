"""Demo of the rights administration: a role made from the registrar's preset and
then changed once, so that the role list shows its drift and its history one
saved change that can be rolled back (`make run`: Роли и права доступа)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.admin.rights import _new_role, apply_values

ROLE = "Старший регистратор"
# What the senior registrar was given beyond the preset: he looks at the org tree
# and the users of his branch.
CHANGES = {"admin.units": "view", "admin.users": "view"}


def load_rights(session: Session) -> dict[str, int]:
    """Create the demo role and save one change of it (no commit); returns counts."""
    role = _new_role(session, ROLE, "back_office", "registrar")
    apply_values(session, role, CHANGES, "save")
    return {"role_changes": 1}
