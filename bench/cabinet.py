"""The client cabinet's statistics at millions of voucher lines, against the raw SQL
aggregate for the same user and period.

    .venv/bin/python -m bench.cabinet [--lines 1000000] [--repeat 30]

On a PostgreSQL database it creates and drops, the script migrates the schema,
loads the demo data and generates vouchers as `bench.vouchers` does (three in five
sent by a corporate client's office). As the demo head-office director
(«Директор ГП»: his head office and its branches, with costs) it times a year's
statistics grouped by month, in the same run:

* the statistics page and its JSON over HTTP (test client: routing, rights, the
  scope, the aggregates, the template), and the database time of their queries;
* the raw SQL aggregate: the same three GROUP BY queries (by office, by month,
  total) with the user's offices written in as literal ids.

Figures are printed (median of --repeat runs, milliseconds), never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics

from sqlalchemy import text

from bench.vouchers import SECURITY_TABLES, Recorder, _login, _median_ms, loaded_app

MEASURES = """count(v.id), count(DISTINCT v.patient_id), coalesce(sum(v.line_count), 0),
       coalesce(sum(v.total), 0)"""
WHERE = """v.service_date >= :start AND v.service_date <= :end
  AND v.referring_unit_id = ANY(:offices)"""
RAW = [
    f"""SELECT v.referring_unit_id, u.name, {MEASURES} FROM vch_voucher v
        JOIN org_unit u ON u.id = v.referring_unit_id WHERE {WHERE}
        GROUP BY v.referring_unit_id, u.name ORDER BY u.name""",
    f"""SELECT date_trunc('month', v.service_date)::date AS m, {MEASURES} FROM vch_voucher v
        WHERE {WHERE} GROUP BY m ORDER BY m""",
    f"SELECT {MEASURES} FROM vch_voucher v WHERE {WHERE}",
]


def run(lines: int, repeat: int) -> None:
    """Build the data set and print the figures."""
    with loaded_app(lines) as app:
        if app is None:
            return
        from app.extensions import db

        session = db.session
        head = session.scalar(text("SELECT id FROM org_unit WHERE code = 'CL1-HQ'"))
        offices = list(session.scalars(text(
            "SELECT descendant_id FROM org_unit_closure WHERE ancestor_id = :id"),
            {"id": head}))
        end = dt.date.today()
        start = end - dt.timedelta(days=364)
        params = {"start": start, "end": end, "offices": offices}
        visits = session.scalar(text(f"SELECT count(*) FROM vch_voucher v WHERE {WHERE}"),
                                params)
        session.remove()
        engine = db.engine
        client = app.test_client()
        _login(client, "client_head")
        query = f"?start={start.isoformat()}&end={end.isoformat()}&grouping=month"
        urls = {"page": f"/cabinet/statistics/{query}",
                "JSON": f"/cabinet/statistics/data{query}"}
        for url_ in urls.values():
            assert client.get(url_).status_code == 200, url_

        def raw():
            with engine.connect() as conn:
                return [conn.execute(text(sql), params).all() for sql in RAW]

        raw_ms = _median_ms(raw, repeat)
        print(f"client_head (CL1-HQ and its {len(offices) - 1} branches), "
              f"{start:%d.%m.%Y}–{end:%d.%m.%Y} by month: {visits:,} visits")
        print(f"{'request':<10}{'HTTP ms':>10}{'its SQL ms':>12}{'raw SQL ms':>12}"
              f"{'SQL/raw':>9}{'HTTP/raw':>10}{'queries':>9}{'security':>10}")
        for name, url_ in urls.items():
            page_ms = _median_ms(lambda u=url_: client.get(u), repeat)
            runs = []
            for _ in range(repeat):
                with Recorder(engine) as recorder:
                    client.get(url_)
                runs.append(recorder)
            db_ms = statistics.median(r.db_ms for r in runs)
            security = max(sum(any(t in s for t in SECURITY_TABLES) for s in r.statements)
                           for r in runs)
            queries = max(len(r.statements) for r in runs)
            print(f"{name:<10}{page_ms:>10.2f}{db_ms:>12.2f}{raw_ms:>12.2f}"
                  f"{db_ms / raw_ms:>9.2f}{page_ms / raw_ms:>10.2f}{queries:>9}"
                  f"{security:>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    run(args.lines, args.repeat)


if __name__ == "__main__":
    main()
