"""Two registrars change vouchers of one branch and day at the same moment on
PostgreSQL: both saves succeed and the branch's day in the rollups is what the
vouchers add up to (before the rollups locked their keys, the later commit died on
a unique violation of `stat_branch_day`)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.money.test_concurrency import pg_app  # noqa: F401  (the fixture)

pytestmark = pytest.mark.no_db_isolation


def test_two_transactions_of_one_branch_and_day_both_commit(pg_app):  # noqa: F811
    from app.extensions import db
    from models.rollups import BranchDay
    from models.vouchers import Voucher

    with pg_app.app_context():
        branch, day = db.session.execute(
            select(Voucher.branch_id, Voucher.service_date)
            .group_by(Voucher.branch_id, Voucher.service_date)
            .having(func.count() >= 2).limit(1)).one()
        first, second = db.session.scalars(select(Voucher.id).where(
            Voucher.branch_id == branch, Voucher.service_date == day).limit(2)).all()
        db.session.remove()

    flushed = threading.Event()
    errors: list[BaseException] = []

    def change(voucher_id: int, hold: bool) -> None:
        with pg_app.app_context():
            try:
                if not hold:
                    flushed.wait(30)
                voucher = db.session.get(Voucher, voucher_id)
                voucher.version += 1
                # The rollups' figures of the day change too: the line count is
                # what the flush recomputes them from.
                db.session.flush()
                if hold:
                    flushed.set()
                    # Keep the transaction open while the other one flushes.
                    threading.Event().wait(1.5)
                db.session.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)
                flushed.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=change, args=(first, True)),
               threading.Thread(target=change, args=(second, False))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with pg_app.app_context():
        stored = db.session.get(BranchDay, (branch, day))
        visits = db.session.scalar(select(func.count(Voucher.id)).where(
            Voucher.branch_id == branch, Voucher.service_date == day))
        assert stored is not None and stored.visits == visits
