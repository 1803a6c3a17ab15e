"""Journal rows for what an invoice does in bulk (SQL over many voucher lines, which
the ORM journal hook does not see): one summary row per operation, in the same
transaction, naming the invoice, the count and the change."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from core.actor import current_actor
from models.journal import JournalEntry


def journal_bulk(session, action: str, table: str, row_pk: str, before: dict | None,
                 after: dict | None) -> None:
    """Write one journal row (who, when, what) for a set-based change."""
    user_id, username = current_actor()
    session.execute(insert(JournalEntry).values(
        at=dt.datetime.now(dt.UTC), user_id=user_id, username=username, action=action,
        table_name=table, row_pk=row_pk, before=before, after=after))
