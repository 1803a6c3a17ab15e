"""Concurrency on PostgreSQL and SQLite, with two threads on two connections:
confirmations get consecutive numbers per branch and year, none twice, none skipped
(a confirmation that loses the SQLite lock is told, and retried as a person would);
two users confirming one invoice or invoicing the same lines: one wins, the other is
told (Conflict), nothing is applied twice. The PostgreSQL run skips without a server
unless UCHET_REQUIRE_SERVICES=1."""

from __future__ import annotations

import threading
import time
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from core.errors import Conflict, UchetError

pytestmark = pytest.mark.no_db_isolation


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def pg_app(request, tmp_path_factory):
    """An app on a fresh copy of the test template (demo data): a PostgreSQL clone, or
    a SQLite file (its writers take turns through the database lock)."""
    import os

    from app import create_app
    from app.extensions import db
    from tests import template_db
    from tests.conftest import APP_OVERRIDES, _build_template
    from tests.support import PG_SERVER_URL, pg_reachable

    if request.param == "sqlite":
        template = template_db.sqlite_template(_build_template)
        url = template_db.copy_sqlite(template, tmp_path_factory.mktemp("inv") / "u.sqlite3")
        application = create_app({**APP_OVERRIDES, "SQLALCHEMY_DATABASE_URI": url})
        yield application
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
        return
    if not pg_reachable():
        if os.environ.get("UCHET_REQUIRE_SERVICES") == "1":
            pytest.fail(f"PostgreSQL is required (UCHET_REQUIRE_SERVICES=1) at {PG_SERVER_URL}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_SERVER_URL}")
    server = make_url(PG_SERVER_URL).set(drivername="postgresql+psycopg")
    url = server.render_as_string(hide_password=False)
    template = template_db.pg_template(url, _build_template)
    name = f"uchet_invoices_{uuid.uuid4().hex[:8]}"
    application = create_app({**APP_OVERRIDES, "SQLALCHEMY_DATABASE_URI":
                              template_db.clone_pg(url, template, name)})
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _rights(session):
    from models.user import AppUser
    from security.effective import resolve

    return resolve(session, session.scalar(select(AppUser).where(AppUser.username == "admin")))


def _owed(session, lines=2):
    """Store a patient's voucher with his own rendered lines in «Тверской»; returns
    (patient id, branch id, line ids)."""
    from tests.invoices.rows import owed_patient

    person, rows = owed_patient(session, prices=[Decimal("100.10")] * lines)
    return person.id, rows[0].branch_id, [r.id for r in rows]


def _in_threads(app, jobs):
    """Run each job(session, rights) in its own thread and app context (own
    connection), started together; returns what each returned or raised."""
    from app.extensions import db

    start = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(i, job):
        with app.app_context():
            rights = _rights(db.session)
            start.wait()
            try:
                results[i] = job(db.session, rights)
            except Exception as exc:
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _drafts(app, count):
    from app.extensions import db
    from services.invoices.create import invoice_patient

    with app.app_context():
        rights = _rights(db.session)
        ids = []
        for _ in range(count):
            patient_id, branch_id, _lines = _owed(db.session)
            ids.append(invoice_patient(db.session, rights, patient_id=patient_id).id)
        db.session.remove()
        return ids, branch_id


def test_concurrent_confirmations_number_without_gaps_or_duplicates(pg_app):
    from app.extensions import db
    from models.invoices import Invoice, InvoiceCounter
    from services.invoices.lifecycle import confirm

    ids, branch_id = _drafts(pg_app, 8)
    with pg_app.app_context():
        year = db.session.get(Invoice, ids[0]).invoice_date.year
        before = db.session.scalar(select(InvoiceCounter.last_number).where(
            InvoiceCounter.branch_id == branch_id, InvoiceCounter.year == year)) or 0
        db.session.remove()

    def confirm_all(chunk):
        def job(session, rights):
            numbers = []
            for pk in chunk:
                for _attempt in range(50):  # told «another user…», the user tries again
                    try:
                        numbers.append(confirm(session, rights, pk).number_seq)
                        break
                    except Conflict:
                        session.rollback()
                        time.sleep(0.05)
            return numbers
        return job

    results = _in_threads(pg_app, [confirm_all(ids[0::2]), confirm_all(ids[1::2])])
    assert not any(isinstance(r, Exception) for r in results), results
    with pg_app.app_context():
        numbers = sorted(db.session.scalars(select(Invoice.number_seq)
                                            .where(Invoice.id.in_(ids))).all())
        assert numbers == list(range(before + 1, before + 9))
        db.session.remove()


def test_two_users_confirming_one_invoice_one_is_told(pg_app):
    from app.extensions import db
    from models.invoices import Invoice
    from services.invoices.lifecycle import confirm

    (pk,), _branch = _drafts(pg_app, 1)
    job = lambda session, rights: confirm(session, rights, pk).number_seq  # noqa: E731
    results = _in_threads(pg_app, [job, job])
    won = [r for r in results if isinstance(r, int)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], Conflict), results
    assert any(w in str(lost[0]) for w in ("другим пользователем", "другой пользователь",
                                           "уже подтверждён"))
    with pg_app.app_context():
        assert db.session.get(Invoice, pk).number_seq == won[0]
        db.session.remove()


def test_two_users_invoicing_the_same_lines_one_wins(pg_app):
    from app.extensions import db
    from models.invoices import Invoice, InvoiceLine
    from models.vouchers import VoucherLine
    from services.invoices.create import invoice_patient

    with pg_app.app_context():
        patient_id, _branch, line_ids = _owed(db.session, lines=3)
        db.session.remove()
    job = lambda session, rights: invoice_patient(  # noqa: E731
        session, rights, patient_id=patient_id, line_ids=line_ids).id
    results = _in_threads(pg_app, [job, job])
    won = [r for r in results if isinstance(r, int)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], UchetError), results
    with pg_app.app_context():
        held = db.session.scalars(select(InvoiceLine.invoice_id).where(
            InvoiceLine.voucher_line_id.in_(line_ids))).all()
        assert held == [won[0]] * 3
        assert db.session.scalar(select(Invoice.total).where(Invoice.id == won[0])) == \
            Decimal("300.30")
        assert set(db.session.scalars(select(VoucherLine.state).where(
            VoucherLine.id.in_(line_ids)))) == {"invoiced"}
        db.session.remove()
