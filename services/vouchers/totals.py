"""A voucher's total and line count follow its lines in the same transaction: after
every flush that touched lines, the affected vouchers are recomputed in SQL, so the
voucher list shows sums without aggregating lines."""

from __future__ import annotations

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from models.vouchers import Voucher, VoucherLine


def _before_flush(session: Session, _context, _instances) -> None:
    # Stored lines know their voucher now; new ones (and new vouchers) learn their
    # ids during the flush, so they are kept as objects until after it.
    ids = session.info.setdefault("voucher_totals", set())
    fresh = session.info.setdefault("voucher_new_lines", [])
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, VoucherLine) and obj.voucher_id is not None:
            ids.add(obj.voucher_id)
    fresh.extend(obj for obj in session.new if isinstance(obj, VoucherLine))


def _after_flush_postexec(session: Session, _context) -> None:
    ids = session.info.pop("voucher_totals", set())
    ids |= {line.voucher_id for line in session.info.pop("voucher_new_lines", [])}
    ids.discard(None)
    if ids:
        refresh(session, ids)


def refresh(session: Session, voucher_ids) -> None:
    """Recompute the total (lines not cancelled) and line count of the given vouchers."""
    lines = VoucherLine.__table__.c
    total = (select(func.coalesce(func.sum(lines.amount), 0))
             .where(lines.voucher_id == Voucher.id, lines.state != "cancelled")
             .scalar_subquery())
    count = select(func.count()).where(lines.voucher_id == Voucher.id).scalar_subquery()
    session.execute(update(Voucher).where(Voucher.id.in_(list(voucher_ids)))
                    .values(total=total, line_count=count)
                    .execution_options(synchronize_session=False))
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Voucher) and obj.id in voucher_ids:
            session.expire(obj, ["total", "line_count"])


def install() -> None:
    """Register the hooks on every session (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush_postexec", _after_flush_postexec)
