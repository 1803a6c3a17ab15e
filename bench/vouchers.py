"""Voucher list and card at millions of lines, against the best hand-written SQL for
the same rows, measured in the same rounds.

    .venv/bin/python -m bench.vouchers [--lines 1000000] [--rounds 30] [--statements]

The data set is `bench.data`'s (built once in the database `uchet_perf`, or
`uchet_perf_10m` for --lines 10000000, and reused). As the demo registrar (scope: his
branch MSK-TVR) it times, round by round and alternately first:

* the list page with no filter (newest first), the list filtered to the last 30
  days and a voucher's card, each a fresh HTTP request through the test client
  (routing, session, rights, scope, the page's queries, the template);
* the baseline for the same rows: the 25 newest vouchers with the names shown,
  filtered by the literal branch id, plus the exact `count(*)` (the app counts up
  to 10 001); the card's voucher and its lines with the names.

Printed: medians in milliseconds, the ratios, the statements per request and how
many of them were the rights resolver's, and the load average. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt

from sqlalchemy import text

from bench.data import load_average, request_app
from bench.rounds import Pair, measure, table

RAW_LIST = """
SELECT v.id, v.service_date, v.kind, v.total, v.line_count, u.name, p.last_name,
       p.first_name, p.middle_name, e.last_name, e.first_name, e.middle_name
FROM vch_voucher v
JOIN org_unit u ON u.id = v.branch_id
JOIN pat_patient p ON p.id = v.patient_id
LEFT JOIN staff_employee e ON e.id = v.doctor_id
WHERE v.branch_id = :branch {since}
ORDER BY v.service_date DESC, v.id DESC
LIMIT 25
"""
RAW_COUNT = "SELECT count(*) FROM vch_voucher v WHERE v.branch_id = :branch {since}"
SINCE = "AND v.service_date > :since"
RAW_CARD = """
SELECT v.*, u.name, p.last_name, p.first_name, p.middle_name, e.last_name,
       l.id, l.quantity, l.price, l.discount, l.amount, l.state, l.payer_kind, s.code, s.name
FROM vch_voucher v
JOIN org_unit u ON u.id = v.branch_id
JOIN pat_patient p ON p.id = v.patient_id
LEFT JOIN staff_employee e ON e.id = v.doctor_id
LEFT JOIN vch_line l ON l.voucher_id = v.id
LEFT JOIN price_service s ON s.id = l.service_id
WHERE v.id = :id
ORDER BY l.id
"""


def login(client, username: str) -> None:
    """Log the test client in as a demo user."""
    response = client.post("/login/", data={"username": username, "password": "demo"})
    assert response.status_code in (200, 302), response.status_code


def fetch(client, url: str):
    """Return a page; fail loudly on anything but 200 (a bench of errors is no bench)."""
    def get():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response
    return get


def run(lines: int, rounds: int, show_statements: bool = False) -> None:
    """Print the figures for the data set of `lines` lines."""
    with request_app(lines) as app:
        if app is None:
            return
        from app.extensions import db

        with app.app_context():
            engine = db.engine
            with engine.connect() as conn:
                branch = conn.scalar(text("SELECT id FROM org_unit WHERE code = 'MSK-TVR'"))
                voucher_id = conn.scalar(text(
                    "SELECT id FROM vch_voucher WHERE branch_id = :b "
                    "ORDER BY service_date DESC, id DESC OFFSET 100 LIMIT 1"), {"b": branch})
                total_lines = conn.scalar(text("SELECT count(*) FROM vch_line"))
                since = dt.date.today() - dt.timedelta(days=30)
                matching = conn.scalar(text(RAW_COUNT.format(since=SINCE)),
                                       {"branch": branch, "since": since})
        client = app.test_client()
        login(client, "registrar")

        def raw(sql: str, params: dict, count: str | None = None):
            def baseline():
                with engine.connect() as conn:
                    rows = conn.execute(text(sql), params).all()
                    if count is not None:
                        conn.execute(text(count), params).scalar()
                    return rows
            return baseline

        params = {"branch": branch, "since": since}
        pairs = [
            Pair("list, newest first", fetch(client, "/voucherview/list/"),
                 raw(RAW_LIST.format(since=""), params, RAW_COUNT.format(since=""))),
            Pair("list, last 30 days",
                 fetch(client, f"/voucherview/list/?_flt_1_service_date={since.isoformat()}"),
                 raw(RAW_LIST.format(since=SINCE), params, RAW_COUNT.format(since=SINCE))),
            Pair("card", fetch(client, f"/voucherview/show/{voucher_id}"),
                 raw(RAW_CARD, {"id": voucher_id})),
        ]
        before = load_average()
        measure(engine, pairs, rounds)
        print(f"vouchers: {total_lines:,} lines; registrar, branch MSK-TVR, "
              f"{matching:,} vouchers in the last 30 days; {rounds} rounds")
        print(f"  before: {before}; after: {load_average()}")
        table(pairs, show_statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--statements", action="store_true",
                        help="print each request's slowest SQL statements")
    args = parser.parse_args()
    run(args.lines, args.rounds, args.statements)


if __name__ == "__main__":
    main()
