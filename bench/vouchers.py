"""Voucher list and card at millions of lines, against the raw SQL for the same rows.

    .venv/bin/python -m bench.vouchers [--lines 1000000] [--repeat 30]

On a PostgreSQL database it creates and drops, the script migrates the schema,
loads the demo data, then generates vouchers in bulk SQL (about 2.5 lines
each, dates over two years, every branch). As the demo registrar (scope: his
branch; a date filter of the last 30 days) it times, in the same run:

* the list page over HTTP (test client: routing, rights, scope filter, the
  capped count, 25 rows with names, template), the database time of the
  page's own queries, and the raw SQL returning the same 25 rows (with the
  names) plus an exact count;
* a voucher's card over HTTP and the raw SQL for the voucher and its lines;
* the security queries each request runs (the rights resolver's).

Figures are printed (median of --repeat runs, milliseconds), never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text

from bench.common import PG_SERVER, _pg_version, migrated_app, postgres_database

SECURITY_TABLES = ("ab_permission_view_role", "role_right")

GENERATE_VOUCHERS = """
INSERT INTO vch_voucher (service_date, kind, branch_id, patient_id, doctor_id, total,
                         line_count, created_on, version, created_by_id, referring_unit_id)
SELECT current_date - (g::bigint * 7919 % 730)::int, 'regular', b.ids[1 + g % cardinality(b.ids)],
       p.ids[1 + g * 31 % cardinality(p.ids)], NULL, 0, 0, now(), 1, NULL,
       CASE WHEN g % 5 < 3 THEN c.ids[1 + g * 7 % cardinality(c.ids)] END
FROM generate_series(1, :vouchers) AS g,
     (SELECT array_agg(id ORDER BY id) AS ids FROM org_unit WHERE kind = 'branch') AS b,
     (SELECT array_agg(id ORDER BY id) AS ids FROM pat_patient) AS p,
     -- three in five visits are sent by a corporate client's office (the cabinet)
     (SELECT array_agg(id ORDER BY id) AS ids FROM org_unit
      WHERE kind IN ('head_unit', 'client_branch')) AS c
"""
GENERATE_LINES = """
INSERT INTO vch_line (voucher_id, service_id, quantity, price, discount, amount, payer_kind,
                      state, service_date, branch_id)
SELECT v.id, s.ids[1 + (v.id * 13 + k) % cardinality(s.ids)], 1, 500 + v.id % 900, 0,
       500 + v.id % 900, 'patient', 'rendered', v.service_date, v.branch_id
FROM vch_voucher v
CROSS JOIN LATERAL generate_series(1, 2 + v.id % 2) AS k,
     (SELECT array_agg(id ORDER BY id) AS ids FROM price_service) AS s
WHERE v.id > :after
"""
FILL_TOTALS = """
UPDATE vch_voucher v SET total = t.total, line_count = t.n
FROM (SELECT voucher_id, sum(amount) AS total, count(*) AS n FROM vch_line
      WHERE voucher_id > :after GROUP BY voucher_id) t
WHERE v.id = t.voucher_id
"""
RAW_LIST = """
SELECT v.id, v.service_date, u.name, p.last_name, p.first_name, e.last_name, v.kind, v.total,
       v.line_count
FROM vch_voucher v
JOIN org_unit u ON u.id = v.branch_id
JOIN pat_patient p ON p.id = v.patient_id
LEFT JOIN staff_employee e ON e.id = v.doctor_id
WHERE v.branch_id IN (SELECT descendant_id FROM org_unit_closure WHERE ancestor_id = :branch)
  AND v.service_date > :since
ORDER BY v.service_date DESC, v.id DESC
LIMIT 25
"""
RAW_COUNT = """
SELECT count(*) FROM vch_voucher v
WHERE v.branch_id IN (SELECT descendant_id FROM org_unit_closure WHERE ancestor_id = :branch)
  AND v.service_date > :since
"""
RAW_SHOW = """
SELECT v.*, u.name, p.last_name, l.id, l.quantity, l.price, l.amount, l.state, s.name
FROM vch_voucher v
JOIN org_unit u ON u.id = v.branch_id
JOIN pat_patient p ON p.id = v.patient_id
LEFT JOIN vch_line l ON l.voucher_id = v.id
LEFT JOIN price_service s ON s.id = l.service_id
WHERE v.id = :id
ORDER BY l.id
"""


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm: plans, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


class Recorder:
    """Collects the statements a request runs and the time the database spent."""

    def __init__(self, engine):
        self.engine, self.statements, self.db_ms, self._start = engine, [], 0.0, 0.0
        self.timings: list[tuple[float, str]] = []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, _conn, _cursor, statement, *_args):
        self.statements.append(statement)
        self._start = time.perf_counter()

    def _after(self, *_args):
        spent = (time.perf_counter() - self._start) * 1000
        self.db_ms += spent
        self.timings.append((spent, self.statements[-1]))


def generate(session, lines: int) -> tuple[int, float]:
    """Add vouchers until about `lines` lines exist; return (lines added, seconds)."""
    start = time.perf_counter()
    after = session.scalar(text("SELECT coalesce(max(id), 0) FROM vch_voucher"))
    session.execute(text(GENERATE_VOUCHERS), {"vouchers": int(lines / 2.5)})
    session.execute(text(GENERATE_LINES), {"after": after})
    session.execute(text(FILL_TOTALS), {"after": after})
    session.commit()
    # What autovacuum does after a bulk load: statistics and the visibility map (without
    # it PostgreSQL cannot answer from an index alone).
    with session.get_bind().connect().execution_options(
            isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    added = session.scalar(text("SELECT count(*) FROM vch_line l JOIN vch_voucher v "
                                "ON v.id = l.voucher_id WHERE v.id > :after"), {"after": after})
    return added, time.perf_counter() - start


def _login(client, username: str) -> None:
    response = client.post("/login/", data={"username": username, "password": "demo"})
    assert response.status_code in (200, 302), response.status_code


@contextmanager
def loaded_app(lines: int) -> Iterator:
    """Yield the app on a fresh PostgreSQL database holding the demo data and about
    `lines` generated voucher lines (None when PostgreSQL is not reachable); print
    what was generated. The database is dropped afterwards."""
    with postgres_database(PG_SERVER) as url:
        if url is None:
            yield None
            return
        print(_pg_version(url))
        with migrated_app(url) as app:
            from app.extensions import db
            from demo.loader import load_demo
            from security.sync import sync_all

            session = db.session
            sync_all(session, app.appbuilder)
            session.commit()
            load_demo(session)
            added, seconds = generate(session, lines)
            total = session.scalar(text("SELECT count(*) FROM vch_line"))
            vouchers = session.scalar(text("SELECT count(*) FROM vch_voucher"))
            print(f"generated {added:,} lines in {seconds:.1f} s; "
                  f"{total:,} voucher lines, {vouchers:,} vouchers")
            yield app


def run(lines: int, repeat: int, show_statements: bool = False) -> None:
    """Build the data set and print the figures."""
    with loaded_app(lines) as app:
        if app is None:
            return
        from app.extensions import db

        session = db.session
        branch = session.scalar(text("SELECT id FROM org_unit WHERE code = 'MSK-TVR'"))
        since = dt.date.today() - dt.timedelta(days=30)
        params = {"branch": branch, "since": since}
        voucher_id = session.scalar(text(
            "SELECT id FROM vch_voucher WHERE branch_id = :branch ORDER BY id DESC LIMIT 1"),
            {"branch": branch})
        matching = session.scalar(text(RAW_COUNT), params)
        session.remove()
        engine = db.engine
        client = app.test_client()
        _login(client, "registrar")
        list_url = f"/voucherview/list/?_flt_1_service_date={since.isoformat()}"
        show_url = f"/voucherview/show/{voucher_id}"
        for url_ in (list_url, show_url):
            assert client.get(url_).status_code == 200, url_

        def raw(sql, values):
            with engine.connect() as conn:
                return conn.execute(text(sql), values).all()

        figures = {}
        for name, url_, baseline in (
                ("list", list_url, lambda: raw(RAW_LIST, params)),
                ("list + exact count", list_url,
                 lambda: (raw(RAW_LIST, params), raw(RAW_COUNT, params))),
                ("show", show_url, lambda: raw(RAW_SHOW, {"id": voucher_id}))):
            page_ms = _median_ms(lambda u=url_: client.get(u), repeat)
            db_runs = []
            for _ in range(repeat):
                with Recorder(engine) as recorder:
                    client.get(url_)
                db_runs.append(recorder)
            db_ms = statistics.median(r.db_ms for r in db_runs)
            security = max(sum(any(t in s for t in SECURITY_TABLES) for s in r.statements)
                           for r in db_runs)
            queries = max(len(r.statements) for r in db_runs)
            raw_ms = _median_ms(baseline, repeat)
            figures[name] = (page_ms, db_ms, raw_ms, queries, security)
            if show_statements:
                print(f"-- {name}: the request's statements, slowest first")
                for spent, statement in sorted(db_runs[-1].timings, reverse=True)[:6]:
                    print(f"{spent:8.2f} ms  {' '.join(statement.split())[:300]}")
        print(f"registrar, branch MSK-TVR, vouchers since {since:%d.%m.%Y}: "
              f"{matching:,} match; page size 25, count capped at 10 000")
        print(f"{'request':<20}{'HTTP ms':>10}{'its SQL ms':>12}{'raw SQL ms':>12}"
              f"{'SQL/raw':>9}{'HTTP/raw':>10}{'queries':>9}{'security':>10}")
        for name, (page_ms, db_ms, raw_ms, queries, security) in figures.items():
            print(f"{name:<20}{page_ms:>10.2f}{db_ms:>12.2f}{raw_ms:>12.2f}"
                  f"{db_ms / raw_ms:>9.2f}{page_ms / raw_ms:>10.2f}{queries:>9}"
                  f"{security:>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--statements", action="store_true",
                        help="print each request's slowest SQL statements")
    args = parser.parse_args()
    run(args.lines, args.repeat, args.statements)


if __name__ == "__main__":
    main()
