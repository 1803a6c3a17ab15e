"""Two cashiers pay the same voucher line at the same moment on PostgreSQL, each on
its own connection: exactly one payment is taken, the other is refused; the line is
paid once and the register printed once."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.no_db_isolation


@pytest.fixture
def pg_app(pg_server):
    """Return an app on a fresh PostgreSQL copy of the demo database."""
    from app import create_app
    from app.extensions import db
    from tests import template_db
    from tests.conftest import APP_OVERRIDES, _build_template

    template = template_db.pg_template(pg_server, _build_template)
    name = f"uchet_money_{uuid.uuid4().hex[:8]}"
    url = template_db.clone_pg(pg_server, template, name)
    app = create_app({**APP_OVERRIDES, "SQLALCHEMY_DATABASE_URI": url})
    yield app
    with app.app_context():
        db.engine.dispose()
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_exactly_one_of_two_concurrent_payments_of_a_line_succeeds(pg_app):
    from app.extensions import db
    from core.errors import UchetError
    from models.money import Receipt, Transaction
    from models.user import AppUser
    from security.effective import resolve
    from services.money import payments
    from tests.money.rows import device_documents, register, unpaid_line

    with pg_app.app_context():
        line = unpaid_line(db.session)
        line_id, patient_id = line.id, line.voucher.patient_id
        register_id = register(db.session).id
        printed = device_documents(db.session)
        db.session.remove()

    start = threading.Barrier(2)
    outcomes: list[str] = []

    def cashier(key: str) -> None:
        with pg_app.app_context():
            user = db.session.query(AppUser).filter_by(username="cashier").one()
            rights = resolve(db.session, user)
            db.session.rollback()
            start.wait()
            try:
                payments.take_payment(db.session, rights, key=key, register_id=register_id,
                                      patient_id=patient_id,
                                      choices=[payments.LineChoice(line_id)])
                outcomes.append("paid")
            except UchetError as exc:
                outcomes.append(f"refused: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=cashier, args=(f"k-race-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(o[:7] for o in outcomes) == ["paid", "refused"], outcomes
    assert "уже оплачена" in next(o for o in outcomes if o.startswith("refused"))
    with pg_app.app_context():
        session = db.session
        assert session.query(Transaction).filter_by(voucher_line_id=line_id,
                                                    kind="payment").count() == 1
        assert session.query(Receipt).filter(Receipt.idem_key.like("k-race-%"),
                                             Receipt.state == "confirmed").count() == 1
        assert device_documents(session) == printed + 1
        db.session.remove()
