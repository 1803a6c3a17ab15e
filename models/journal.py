"""The change journal: who changed which row of which table, when, from what to what."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import JSON, DateTime, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

ACTION_LABELS = {
    "insert": _l("Создание"),
    "update": _l("Изменение"),
    "delete": _l("Удаление"),
    "policy": _l("Решение политики"),
    "import": _l("Импорт"),
}
# Tables whose classes are FAB's and cannot carry a __label__.
TABLE_LABELS = {"ab_role": _l("Роли"), "ab_user_role": _l("Роли пользователей")}


def table_label(table: str) -> str:
    """Return the Russian name of a journaled table (its model's __label__)."""
    for mapper in Model.registry.mappers:
        if mapper.local_table is not None and mapper.local_table.name == table:
            label = getattr(mapper.class_, "__label__", None)
            if label is not None:
                return str(label)
    return str(TABLE_LABELS.get(table, table))


def _shown(value) -> str:
    """Return a journaled value as a person reads it (Да/Нет, blank for none)."""
    if value is None:
        return ""
    if value is True:
        return str(_l("Да"))
    if value is False:
        return str(_l("Нет"))
    return str(value)


def render_diff(before: dict | None, after: dict | None) -> Markup:
    """Return an HTML table of field, old value, new value (changed rows highlighted)."""
    before = before or {}
    after = after or {}
    rows = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        cls = ' class="warning"' if old != new else ""
        rows.append(
            f"<tr{cls}><td>{escape(key)}</td><td>{escape(_shown(old))}</td>"
            f"<td>{escape(_shown(new))}</td></tr>"
        )
    field, was, now = _l("Поле"), _l("Было"), _l("Стало")
    head = f"<tr><th>{escape(field)}</th><th>{escape(was)}</th><th>{escape(now)}</th></tr>"
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
    def table_label(self) -> str:
        """Return the Russian name of the table."""
        return table_label(self.table_name)

    @property
    def diff(self) -> Markup:
        """Return the before/after table shown on the entry's page."""
        return render_diff(self.before, self.after)
