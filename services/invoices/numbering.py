"""Invoice numbers: per branch and year, consecutive, given at confirmation.

The counter row of (branch, year) is created if missing (INSERT … ON CONFLICT DO
NOTHING: two first confirmations of a year do not collide), then read with
SELECT … FOR UPDATE, which on PostgreSQL holds the row until the transaction
ends: a second confirmation waits and reads the first one's number. SQLite lets
one writer at a time, and the confirmation writes the invoice before it reads
the counter, so it reads it under the write lock. A rolled-back confirmation
takes its increment with it: no gaps.
"""

from __future__ import annotations

from sqlalchemy import select, update

from models.invoices import InvoiceCounter


def _insert_ignore(session):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def next_number(session, branch_id: int, year: int) -> int:
    """Return the next invoice number of the branch in the year, taken under the
    counter row's lock (the caller's transaction keeps it until it ends)."""
    insert = _insert_ignore(session)
    session.execute(insert(InvoiceCounter).values(branch_id=branch_id, year=year, last_number=0)
                    .on_conflict_do_nothing())
    last = session.execute(
        select(InvoiceCounter.last_number)
        .where(InvoiceCounter.branch_id == branch_id, InvoiceCounter.year == year)
        .with_for_update()).scalar_one()
    number = last + 1
    session.execute(update(InvoiceCounter)
                    .where(InvoiceCounter.branch_id == branch_id, InvoiceCounter.year == year)
                    .values(last_number=number).execution_options(synchronize_session=False))
    return number
