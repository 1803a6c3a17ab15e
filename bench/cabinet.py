"""The client cabinet's yearly statistics at millions of voucher lines, against the
best hand-written aggregate over the detail rows, measured in the same rounds.

    .venv/bin/python -m bench.cabinet [--lines 1000000] [--rounds 20] [--statements]
                                      [--database NAME]
                                      [--period both|rolling|calendar]

The data set is `bench.data`'s (reused), or the database NAME as it is (a copy of a
data set made with `CREATE DATABASE NAME TEMPLATE uchet_perf`, to measure a branch
whose migration must not touch the shared data set). As the demo head-office director («Директор
ГП»: CL1-HQ and its three branches, with costs) it times a year's statistics grouped
by month, page and JSON, each a fresh HTTP request, for two years: the last 365 days
(«rolling»: counted over the office-day-patient rollup) and this calendar year to
date («calendar»: the periods' counters, services.stat_periods); `--period` keeps
one. The baseline is one pass over the vouchers those offices referred in the
year: GROUPING SETS (office, month, all) with `count(*)`, `count(DISTINCT
patient_id)`, the lines and the cost, the offices written in as literal ids.
Medians, ratios and the load average are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt

from sqlalchemy import text

from bench.data import load_average, request_app
from bench.rounds import Pair, measure, table
from bench.vouchers import fetch, login

RAW = """
SELECT v.referring_unit_id, date_trunc('month', v.service_date)::date AS m, count(*),
       count(DISTINCT v.patient_id), sum(v.line_count), sum(v.total)
FROM vch_voucher v
WHERE v.referring_unit_id IN ({offices}) AND v.service_date BETWEEN :start AND :end
GROUP BY GROUPING SETS ((v.referring_unit_id), (m), ())
"""


def periods(end: dt.date) -> dict[str, dt.date]:
    """Return the first day of each measured year ending `end`."""
    return {"rolling": end - dt.timedelta(days=364), "calendar": end.replace(month=1, day=1)}


def run(lines: int, rounds: int, show_statements: bool = False,
        database: str | None = None, period: str = "both") -> None:
    """Print the figures for the data set of `lines` lines (or the database named)."""
    with request_app(lines, database) as app:
        if app is None:
            return
        from app.extensions import db

        with app.app_context():
            engine = db.engine
            with engine.connect() as conn:
                offices = list(conn.scalars(text(
                    "SELECT c.descendant_id FROM org_unit_closure c JOIN org_unit u "
                    "ON u.id = c.ancestor_id WHERE u.code = 'CL1-HQ' ORDER BY 1")))
                total_lines = conn.scalar(text("SELECT count(*) FROM vch_line"))
        end = dt.date.today()
        raw_sql = RAW.format(offices=", ".join(str(int(o)) for o in offices))
        client = app.test_client()
        login(client, "client_head")
        pairs, said = [], []
        for name, start in periods(end).items():
            if period not in ("both", name):
                continue
            with engine.connect() as conn:
                visits = sum(r[2] for r in conn.execute(
                    text(raw_sql), {"start": start, "end": end})
                    if r[0] is None and r[1] is None)
            said.append(f"{name} {start:%d.%m.%Y}–{end:%d.%m.%Y}: {visits:,} visits")

            def baseline(start=start):
                with engine.connect() as conn:
                    return conn.execute(text(raw_sql), {"start": start, "end": end}).all()

            query = f"?start={start.isoformat()}&end={end.isoformat()}&grouping=month"
            pairs += [Pair(f"{name}: page", fetch(client, f"/cabinet/statistics/{query}"),
                           baseline),
                      Pair(f"{name}: JSON", fetch(client, f"/cabinet/statistics/data{query}"),
                           baseline)]
        before = load_average()
        measure(engine, pairs, rounds)
        print(f"cabinet: {total_lines:,} lines; client_head (CL1-HQ and its "
              f"{len(offices) - 1} branches), by month; {'; '.join(said)}; {rounds} rounds")
        print(f"  before: {before}; after: {load_average()}")
        table(pairs, show_statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--statements", action="store_true")
    parser.add_argument("--database", help="measure this database as it is (default: the "
                        "data set of --lines, built when missing)")
    parser.add_argument("--period", choices=("both", "rolling", "calendar"), default="both")
    args = parser.parse_args()
    run(args.lines, args.rounds, args.statements, args.database, args.period)


if __name__ == "__main__":
    main()
