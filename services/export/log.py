"""The export log as the user may read it: the exports of the branches in his scope,
of the kinds whose right he holds at «просмотр» or above."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import NotFound
from models.exports import KIND_RIGHTS, ExportLog
from security.scope import scoped

LIMIT = 200


def readable_kinds(rights) -> list[str]:
    """Return the kinds of export whose log the user may read."""
    return [kind for kind, code in KIND_RIGHTS.items() if rights.allows(code, "view")]


def entries(session, rights, kind: str, limit: int = LIMIT) -> list[ExportLog]:
    """Return the latest exports of `kind` the user may read, newest first (none when
    he may not read that kind)."""
    if kind not in readable_kinds(rights):
        return []
    stmt = select(ExportLog).where(ExportLog.kind == kind).order_by(ExportLog.id.desc())
    return list(session.scalars(scoped(stmt, rights).limit(limit)))


def entry(session, rights, log_id: int, kind: str | None = None) -> ExportLog:
    """Return one export the user may read (of `kind` when given).

    Raises NotFound for an unknown export, one of a branch outside his scope, of
    another kind, or of a kind whose right he lacks."""
    found = session.scalar(scoped(select(ExportLog).where(ExportLog.id == log_id), rights))
    if found is None or found.kind not in readable_kinds(rights) \
            or (kind is not None and found.kind != kind):
        raise NotFound(_("Выгрузка не найдена"))
    return found
