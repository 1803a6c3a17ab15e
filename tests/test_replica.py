"""UCHET_REPLICA_URL: the cabinet's statistics, the managers' figures and the rows of the
export to accounting are read on the replica, the export's log is written on the
primary, nothing writes through the replica, and without the setting the primary is
read as before.

The replica here is a second database (a SQLite file, or a PostgreSQL database under
UCHET_TEST_DATABASE_URL) made from the same template as the primary and then changed,
so that its figures and rows differ from the primary's: a page that shows the changed
figures read the replica.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app import replica
from models.exports import ExportLog
from models.money import Transaction
from models.org import Unit
from tests import template_db

TODAY = dt.date.today()
YEAR_AGO = TODAY - dt.timedelta(days=365)
#: What the replica adds to one office-day (visits) and the amount it gives one payment.
EXTRA_VISITS = 90000
REPLICA_AMOUNT = Decimal("98765.43")


def _statistics_change(conn) -> dict:
    """Add EXTRA_VISITS to today's visits of client_head's office (a row made when it
    has none); return the office's id."""
    office = conn.scalar(text("SELECT home_unit_id FROM ab_user WHERE username = 'client_head'"))
    values = {"o": office, "d": TODAY, "v": EXTRA_VISITS}
    added = conn.execute(text("UPDATE stat_office_day SET visits = visits + :v "
                              "WHERE office_id = :o AND day = :d"), values).rowcount
    if not added:
        conn.execute(text(
            "INSERT INTO stat_office_day (office_id, day, visits, patients, tests, cost) "
            "VALUES (:o, :d, :v, 0, 0, 0)"), values)
    return {"office": office}


def _export_change(conn) -> dict:
    """Give the latest payment of «Тверской» this month REPLICA_AMOUNT; return its id."""
    branch = conn.scalar(text("SELECT id FROM org_unit WHERE code = 'MSK-TVR'"))
    payment = conn.scalar(text(
        "SELECT max(id) FROM money_transaction WHERE branch_id = :b AND kind = 'payment' "
        "AND posted_on >= :s AND posted_on <= :e AND reversed = :f "
        "AND shift_id IS NOT NULL"),
        {"b": branch, "s": TODAY.replace(day=1), "e": TODAY, "f": False})
    assert payment is not None, "the demo has no payment in «Тверской» this month"
    conn.execute(update(Transaction).where(Transaction.id == payment)
                 .values(amount=REPLICA_AMOUNT))
    return {"payment": payment}


@pytest.fixture(scope="module")
def replica_db(database_url):
    """Return (the replica's URL, what was changed in it): a copy of the demo database
    whose statistics and one payment differ from the primary's."""
    from tests.conftest import _build_template

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        template = template_db.sqlite_template(_build_template)
        target = Path(url.database).with_name("replica.sqlite3")
        replica_url = template_db.copy_sqlite(template, target)
        server = name = None
    else:
        server = url.set(database="postgres").render_as_string(hide_password=False)
        name = f"uchet_replica_{uuid.uuid4().hex[:10]}"
        replica_url = template_db.clone_pg(
            server, template_db.pg_template(server, _build_template), name)
    engine = create_engine(replica_url)
    with engine.begin() as conn:
        changed = {**_statistics_change(conn), **_export_change(conn)}
    engine.dispose()
    yield replica_url, changed
    if name is not None:
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def replica_set(app, url: str):
    """Run the block with UCHET_REPLICA_URL set to `url` (as if read at start-up)."""
    app.config["UCHET_REPLICA_URL"] = url
    replica.install(app)
    try:
        yield
    finally:
        app.config["UCHET_REPLICA_URL"] = None
        replica.install(app)


@pytest.fixture
def on_replica(app, replica_db):
    """Configure the app with UCHET_REPLICA_URL for one test; return what the replica
    changed and its URL."""
    with replica_set(app, replica_db[0]):
        yield {**replica_db[1], "url": replica_db[0]}


def _figures(client) -> dict:
    response = client.get(f"/cabinet/statistics/data?start={YEAR_AGO:%d.%m.%Y}"
                          f"&end={TODAY:%d.%m.%Y}&grouping=month")
    assert response.status_code == 200, response.text
    return response.json


def test_statistics_page_and_json_read_the_replica(app, login, replica_db, count_queries):
    head = login("client_head")
    primary = _figures(head)
    primary_page = head.get("/cabinet/statistics/")
    assert primary_page.status_code == 200
    with replica_set(app, replica_db[0]), count_queries() as on_primary:
        figures = _figures(head)
        page = head.get("/cabinet/statistics/")
    # The primary answered the rights and the office list, none of the figures.
    assert on_primary and not [s for s in on_primary if "stat_office" in s]
    office = replica_db[1]["office"]
    assert figures["total"]["visits"] == primary["total"]["visits"] + EXTRA_VISITS
    [before] = [r for r in primary["by_unit"] if r["key"] == office] or [{"visits": 0}]
    [after] = [r for r in figures["by_unit"] if r["key"] == office]
    assert after["visits"] == before["visits"] + EXTRA_VISITS
    # The page (this month, by office) carries them in its total row.
    assert page.status_code == 200
    assert _month_total(page.text) == _month_total(primary_page.text) + EXTRA_VISITS
    # Without the setting, the primary again.
    assert _figures(head)["total"]["visits"] == primary["total"]["visits"]


def _month_total(html: str) -> int:
    """Return the visits in the footer («Итого») of the page's table by office."""
    found = re.search(r"<tfoot><tr><th>[^<]*</th><th>(\d+)</th>", html)
    assert found, "the statistics table has no total row"
    return int(found.group(1))


def _managers_visits(client) -> int:
    """Return this month's visits of all the manager's clients, summed from his page."""
    page = client.get("/cabinet/clients/")
    assert page.status_code == 200
    return sum(int(n) for n in re.findall(r"визитов (\d+)", page.text))


def test_the_managers_figures_read_the_replica(app, login, replica_db):
    manager = login("manager")
    primary = _managers_visits(manager)
    with replica_set(app, replica_db[0]):
        assert _managers_visits(manager) == primary + EXTRA_VISITS
    assert _managers_visits(manager) == primary


def test_the_export_reads_the_replica_and_logs_on_the_primary(session, login, on_replica,
                                                              count_queries):
    client = login("accountant")
    branch = session.scalar(select(Unit.id).where(Unit.code == "MSK-TVR"))
    with count_queries() as on_primary:
        response = client.post("/export/cash/start", data={
            "start": f"{TODAY.replace(day=1):%d.%m.%Y}", "end": f"{TODAY:%d.%m.%Y}",
            "fmt": "xml", "branch_id": str(branch)})
    assert response.status_code == 302
    assert [s for s in on_primary if s.lstrip().upper().startswith("INSERT INTO EXPORT_LOG")]
    assert not [s for s in on_primary if "money_transaction" in s]
    # The log line is the primary's ...
    [entry] = session.scalars(select(ExportLog).where(ExportLog.kind == "cash"))
    xml = client.get(f"/export/cash/download/{entry.id}").data.decode()
    # ... its file holds the replica's rows: the payment the replica changed.
    assert str(REPLICA_AMOUNT) in xml
    primary_amount = session.scalar(select(Transaction.amount).where(
        Transaction.id == on_replica["payment"]))
    assert primary_amount != REPLICA_AMOUNT
    assert entry.amount == _replica_cash_sum(session, on_replica, branch)
    replica_engine = create_engine(on_replica["url"])
    with replica_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM export_log")) == 0
    replica_engine.dispose()


def _replica_cash_sum(session, changed, branch) -> Decimal:
    """The primary's revenue of the period with the one payment the replica changed."""
    kind_sign = func.sum(Transaction.amount)
    rows = dict(session.execute(
        select(Transaction.kind, kind_sign)
        .where(Transaction.branch_id == branch, Transaction.posted_on >= TODAY.replace(day=1),
               Transaction.posted_on <= TODAY, Transaction.kind.in_(("payment", "refund")),
               Transaction.reversed.is_(False), Transaction.shift_id.is_not(None),
               Transaction.id != changed["payment"])
        .group_by(Transaction.kind)).all())
    return (Decimal(rows.get("payment") or 0) - Decimal(rows.get("refund") or 0)
            + REPLICA_AMOUNT)


def test_without_the_setting_the_export_reads_the_primary(session, login, replica_db):
    client = login("accountant")
    branch = session.scalar(select(Unit.id).where(Unit.code == "MSK-TVR"))
    client.post("/export/cash/start", data={
        "start": f"{TODAY.replace(day=1):%d.%m.%Y}", "end": f"{TODAY:%d.%m.%Y}",
        "fmt": "xml", "branch_id": str(branch)})
    [entry] = session.scalars(select(ExportLog).where(ExportLog.kind == "cash"))
    assert str(REPLICA_AMOUNT) not in client.get(
        f"/export/cash/download/{entry.id}").data.decode()


def test_a_write_through_the_replica_session_is_refused(app, on_replica):
    with app.test_request_context():
        reads = replica.read_session()
        assert replica.configured() and reads is replica.read_session()  # one per request
        unit = reads.scalar(select(Unit).where(Unit.code == "MSK-TVR"))
        unit.name = "Переименован через реплику"
        with pytest.raises(replica.ReplicaWriteRefused):
            reads.flush()
        reads.rollback()
        # A statement that bypasses the session is refused by the connection itself.
        with pytest.raises(DBAPIError, match=r"(?i)read.?only"):
            reads.execute(update(Unit).where(Unit.code == "MSK-TVR")
                          .values(name="Переименован"))
        reads.rollback()
    with app.app_context(), replica.reading() as job_reads, \
            pytest.raises(DBAPIError, match=r"(?i)read.?only"):
        job_reads.execute(text("DELETE FROM export_log"))


def test_without_the_setting_reads_go_to_the_primary(app):
    from app.extensions import db

    with app.test_request_context():
        assert not replica.configured()
        assert replica.read_session() is db.session
        with replica.reading() as reads:
            assert reads is db.session
