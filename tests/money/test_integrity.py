"""The money chain holds on the demo data and names the first break after a posted
row is changed behind the application's back (page and `flask uchet verify-money`);
a crash between the register's confirmation and the database commit is recovered
by the operation's key, once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import create_engine, select, text, update

from models.money import Transaction
from tests.money.rows import register, unpaid_line

ROOT = Path(__file__).resolve().parents[2]


def test_the_chain_holds_on_the_demo_data(login, session, app):
    page = login("accountant").get("/money/integrity/")
    assert page.status_code == 200 and 'id="chain-ok"' in page.get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["uchet", "verify-money"])
    assert result.exit_code == 0, result.output


def test_a_changed_amount_breaks_the_chain_at_that_document(login, session, app):
    tx = session.scalar(select(Transaction).where(Transaction.kind == "payment")
                        .order_by(Transaction.id))
    session.execute(update(Transaction).where(Transaction.id == tx.id)
                    .values(amount=tx.amount + 1))
    session.commit()
    page = login("accountant").get("/money/integrity/").get_data(as_text=True)
    assert 'id="chain-broken"' in page and f"transaction {tx.id}" in page
    result = app.test_cli_runner().invoke(args=["uchet", "verify-money"])
    assert result.exit_code == 1 and f"transaction {tx.id}" in result.output


def test_a_deleted_link_is_a_break(session, app):
    session.execute(text("DELETE FROM money_chain WHERE seq = 2"))
    session.commit()
    result = app.test_cli_runner().invoke(args=["uchet", "verify-money"])
    assert result.exit_code == 1 and "пропущено звено" in result.output


def test_the_integrity_page_needs_its_right(login):
    assert login("cashier").get("/money/integrity/").status_code == 403


CRASH = textwrap.dedent("""
    import os, sys
    os.environ["UCHET_ENV"] = "testing"
    from app import create_app
    from app.extensions import db
    from models.user import AppUser
    from security.effective import resolve
    from services.money import desk, payments
    app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "TESTING": True,
                      "SECRET_KEY": "x" * 40})
    def crash(*args, **kwargs):
        os._exit(17)  # the process dies: the register printed, nothing was confirmed
    desk.confirm = crash
    with app.app_context():
        user = db.session.query(AppUser).filter_by(username="cashier").one()
        rights = resolve(db.session, user)
        payments.take_payment(db.session, rights, key="k-crash", register_id=int(sys.argv[2]),
                              patient_id=int(sys.argv[3]),
                              choices=[payments.LineChoice(int(sys.argv[4]))])
""")


def test_a_crash_after_printing_is_recovered_by_the_key(session, database_url, tmp_path):
    """The process is killed after the register printed and before the database
    commit; `flask uchet money-recover` finds the receipt by its key, confirms and
    posts it once; the device printed once."""
    if not database_url.startswith("sqlite"):
        return  # the file copy below is SQLite's; PostgreSQL runs the same code
    line = unpaid_line(session)
    reg = register(session)
    from tests import template_db
    from tests.conftest import _build_template

    copy = tmp_path / "crash.sqlite3"  # a copy of the demo database, as the session's
    template_db.copy_sqlite(template_db.sqlite_template(_build_template), copy)
    url = f"sqlite:///{copy}"
    env = {**os.environ, "UCHET_ENV": "testing", "DATABASE_URL": url,
           "SECRET_KEY": "x" * 40}
    run = subprocess.run([sys.executable, "-c", CRASH, url, str(reg.id),
                          str(line.voucher.patient_id), str(line.id)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 17, run.stderr[-2000:]
    engine = create_engine(url)

    def state():
        with engine.connect() as conn:
            receipt = conn.execute(text("SELECT state FROM money_receipt WHERE idem_key = 'k-crash'"
                                        )).scalar()
            posted = conn.execute(text("SELECT count(*) FROM money_transaction "
                                       "WHERE idem_key LIKE 'k-crash%'")).scalar()
            memory = json.loads(conn.execute(text(
                "SELECT memory FROM money_emulator WHERE serial = :s"), {"s": reg.serial}).scalar())
        return receipt, posted, memory

    receipt, posted, memory = state()
    assert (receipt, posted) == ("pending", 0) and "k-crash" in memory["docs"]
    printed = memory["doc_number"]
    recover = subprocess.run([sys.executable, "-m", "flask", "--app", "run", "uchet",
                              "money-recover"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120)
    assert recover.returncode == 0, recover.stderr[-2000:]
    assert f"{reg.serial}: confirmed 1" in recover.stdout
    receipt, posted, memory = state()
    assert (receipt, posted) == ("confirmed", 2) and memory["doc_number"] == printed
    # Run again: nothing is pending, nothing is posted twice.
    subprocess.run([sys.executable, "-m", "flask", "--app", "run", "uchet", "money-recover"],
                   cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert state()[:2] == ("confirmed", 2)
    engine.dispose()
