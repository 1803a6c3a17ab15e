"""The change journal: who changed which row of which table, when, from what to what."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import JSON, DateTime, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

ACTION_LABELS = {"insert": _l("Создание"), "update": _l("Изменение"), "delete": _l("Удаление")}


def render_diff(before: dict | None, after: dict | None) -> Markup:
    """Return an HTML table of field, old value, new value (changed rows highlighted)."""
    before = before or {}
    after = after or {}
    rows = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        cls = ' class="warning"' if old != new else ""
        rows.append(
            f"<tr{cls}><td>{escape(key)}</td><td>{escape('' if old is None else old)}</td>"
            f"<td>{escape('' if new is None else new)}</td></tr>"
        )
    head = (f"<tr><th>{escape(_l('Поле'))}</th><th>{escape(_l('Было'))}</th>"
            f"<th>{escape(_l('Стало'))}</th></tr>")
    return Markup(
        f'<table class="table table-condensed table-bordered">{head}{"".join(rows)}</table>'
    )


class JournalEntry(Model):
    """One insert, update or delete of one row, written in the same transaction."""

    __tablename__ = "change_journal"
    __table_args__ = (
        Index("ix_change_journal_table_pk", "table_name", "row_pk"),
        Index("ix_change_journal_at", "at"),
        Index("ix_change_journal_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    # No foreign key: the journal outlives deleted users.
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(128), nullable=False)
    action: Mapped[str] = mapped_column(String(10), nullable=False)
    table_name: Mapped[str] = mapped_column(String(100), nullable=False)
    row_pk: Mapped[str] = mapped_column(String(100), nullable=False)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    @property
    def action_label(self) -> str:
        """Return the localised name of the action."""
        return str(ACTION_LABELS.get(self.action, self.action))

    @property
    def diff(self) -> Markup:
        """Return the before/after table shown on the entry's page."""
        return render_diff(self.before, self.after)
