"""Invoicing a month of a DMS contract, and the invoice list at a million invoice
lines, against the raw SQL producing the same rows, in the same run.

    .venv/bin/python -m bench.invoices [--lines 100000] [--invoice-lines 1000000] [--repeat 5]

On a PostgreSQL database it creates and drops: migrate, load the demo, then

1. generate `--lines` rendered voucher lines charged to the demo DMS contract of
   «Тверской» in the last 30 days, and time, interleaved run by run:
   * the command `invoice_contract` (scoped contract look-up, rules, INSERT … SELECT
     of the lines, the UPDATE taking them, the total, the journal), without the commit;
   * the raw SQL: INSERT of the invoice, INSERT … SELECT of the same lines, UPDATE of
     their state, UPDATE of the total;
   each rolled back, with the Python memory peak (tracemalloc) of the command;
2. generate invoices of organisations in every branch until `--invoice-lines`
   invoice lines exist, and time the accountant's list of invoices to
   organisations (scope: his region) over HTTP and its SQL against the raw SQL
   returning the same 25 rows with an exact count; count the security queries.

Figures are printed (median of --repeat runs, milliseconds), never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
import tracemalloc

from sqlalchemy import text

from bench.common import PG_SERVER, _pg_version, migrated_app, postgres_database
from bench.vouchers import SECURITY_TABLES, Recorder, _login

GENERATE_LINES = """
WITH v AS (
  INSERT INTO vch_voucher (service_date, kind, branch_id, patient_id, total, line_count,
                           created_on, version, source)
  SELECT current_date - 1 - (g % 29), 'regular', :branch,
         p.ids[1 + g % cardinality(p.ids)], 0, 0, now(), 1, 'manual'
  FROM generate_series(1, :vouchers) g,
       (SELECT array_agg(id ORDER BY id) AS ids FROM pat_patient) p
  RETURNING id, service_date)
INSERT INTO vch_line (voucher_id, service_id, quantity, price, discount, amount, payer_kind,
                      contract_id, state, service_date, branch_id)
SELECT v.id, s.ids[1 + (v.id * 13 + k) % cardinality(s.ids)], 1, 800 + v.id % 700, 0,
       800 + v.id % 700, 'contract', :contract, 'rendered', v.service_date, :branch
FROM v CROSS JOIN generate_series(1, :per) k,
     (SELECT array_agg(id ORDER BY id) AS ids FROM price_service) s
"""
RAW_INVOICE = """
INSERT INTO inv_invoice (kind, state, invoice_date, branch_id, contract_id, period_from,
                         period_to, total, paid_amount, created_on, version)
VALUES ('organisation', 'draft', current_date, :branch, :contract, :since, :until, 0, 0,
        now(), 1) RETURNING id
"""
RAW_LINES = """
INSERT INTO inv_line (invoice_id, voucher_line_id, service_date, quantity, price, amount)
SELECT :invoice, l.id, l.service_date, l.quantity, l.price, l.amount FROM vch_line l
WHERE l.contract_id = :contract AND l.state = 'rendered' AND l.branch_id = :branch
  AND l.payer_kind IN ('attachment', 'contract')
  AND l.service_date BETWEEN :since AND :until
ORDER BY l.service_date, l.id
"""
RAW_TAKE = """
UPDATE vch_line SET state = 'invoiced'
WHERE id IN (SELECT voucher_line_id FROM inv_line WHERE invoice_id = :invoice)
  AND state = 'rendered'
"""
RAW_TOTAL = """
UPDATE inv_invoice SET total = (SELECT coalesce(sum(amount), 0) FROM inv_line
                                WHERE invoice_id = :invoice) WHERE id = :invoice
"""
GENERATE_INVOICES = """
WITH i AS (
  INSERT INTO inv_invoice (kind, state, invoice_date, number_year, number_seq, branch_id,
                           contract_id, period_from, period_to, total, paid_amount,
                           created_on, version)
  SELECT 'organisation', 'confirmed', current_date - (g % 365), 2000 + g / 900000,
         100000 + g, b.ids[1 + g % cardinality(b.ids)], :contract, current_date - 30,
         current_date, 0, 0, now(), 1
  FROM generate_series(1, :invoices) g,
       (SELECT array_agg(id ORDER BY id) AS ids FROM org_unit WHERE kind = 'branch') b
  RETURNING id)
INSERT INTO inv_line (invoice_id, voucher_line_id, service_date, quantity, price, amount)
SELECT i.id, l.ids[1 + (i.id * 7 + k) % cardinality(l.ids)], current_date, 1, 1000, 1000
FROM i CROSS JOIN generate_series(1, :per) k,
     (SELECT array_agg(id ORDER BY id) AS ids FROM
        (SELECT id FROM vch_line ORDER BY id LIMIT 10000) x) l
"""
FILL_TOTALS = """
UPDATE inv_invoice v SET total = t.total
FROM (SELECT invoice_id, sum(amount) AS total FROM inv_line GROUP BY invoice_id) t
WHERE v.id = t.invoice_id AND v.number_seq > 100000
"""
RAW_LIST = """
SELECT i.id, i.number_seq, i.number_year, i.invoice_date, u.name, c.number, i.period_from,
       i.period_to, i.state, i.total, i.paid_amount, ins.name, org.name
FROM inv_invoice i
JOIN org_unit u ON u.id = i.branch_id
LEFT JOIN ctr_contract c ON c.id = i.contract_id
LEFT JOIN ctr_insurer ins ON ins.id = c.insurer_id
LEFT JOIN ctr_organisation org ON org.id = c.organisation_id
WHERE i.kind = 'organisation'
  AND i.branch_id IN (SELECT descendant_id FROM org_unit_closure WHERE ancestor_id = :region)
ORDER BY i.invoice_date DESC, i.id DESC
LIMIT 25
"""
RAW_COUNT = """
SELECT count(*) FROM inv_invoice i WHERE i.kind = 'organisation'
  AND i.branch_id IN (SELECT descendant_id FROM org_unit_closure WHERE ancestor_id = :region)
"""


def _ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _admin_rights(session):
    from sqlalchemy import select

    from models.user import AppUser
    from security.effective import resolve

    return resolve(session, session.scalar(select(AppUser).where(AppUser.username == "admin")))


def invoicing(app, lines: int, repeat: int) -> None:
    """Part 1: the command against the raw SQL on `lines` lines of a month."""
    from app.extensions import db
    from services.invoices.create import invoice_contract

    session = db.session
    contract, branch = session.execute(text(
        "SELECT c.id, c.branch_id FROM ctr_contract c WHERE c.kind = 'dms' AND NOT c.network "
        "ORDER BY c.id LIMIT 1")).one()
    start = time.perf_counter()
    session.execute(text(GENERATE_LINES), {"branch": branch, "contract": contract,
                                           "vouchers": lines // 2, "per": 2})
    session.commit()
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    since, until = dt.date.today() - dt.timedelta(days=30), dt.date.today()
    owed = session.scalar(text(
        "SELECT count(*) FROM vch_line WHERE contract_id = :c AND state = 'rendered' "
        "AND service_date BETWEEN :s AND :u"), {"c": contract, "s": since, "u": until})
    print(f"generated {lines:,} contract lines in {time.perf_counter() - start:.1f} s; "
          f"{owed:,} owed in the month")
    command = invoice_contract.__wrapped__  # the work without its commit
    params = {"branch": branch, "contract": contract, "since": since, "until": until}

    def service():
        rights = _admin_rights(session)
        invoice = command(session, rights, contract_id=contract, period_from=since,
                          period_to=until)
        assert invoice.total > 0

    def raw():
        invoice = session.execute(text(RAW_INVOICE), params).scalar_one()
        session.execute(text(RAW_LINES), {**params, "invoice": invoice})
        session.execute(text(RAW_TAKE), {"invoice": invoice})
        session.execute(text(RAW_TOTAL), {"invoice": invoice})

    runs = {"command": [], "raw SQL": []}
    peaks = []
    for i in range(repeat + 1):
        for name, fn in (("command", service), ("raw SQL", raw)) if i % 2 else \
                (("raw SQL", raw), ("command", service)):
            if name == "command":
                tracemalloc.start()
            spent = _ms(fn)
            if name == "command":
                peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
                tracemalloc.stop()
            session.rollback()
            if i:  # the first round warms plans and caches
                runs[name].append(spent)
    cmd, base = statistics.median(runs["command"]), statistics.median(runs["raw SQL"])
    print(f"invoice a month of a DMS contract ({owed:,} lines), median of {repeat}, "
          "interleaved, rolled back:")
    print(f"  command {cmd:.1f} ms (Python peak {statistics.median(peaks):.1f} MiB), "
          f"raw SQL {base:.1f} ms, ratio {cmd / base:.2f}")


def listing(app, invoice_lines: int, repeat: int) -> None:
    """Part 2: the accountant's invoice list at `invoice_lines` invoice lines."""
    from app.extensions import db

    session = db.session
    contract = session.scalar(text(
        "SELECT id FROM ctr_contract WHERE insurer_id IS NOT NULL ORDER BY id LIMIT 1"))
    start = time.perf_counter()
    session.execute(text(GENERATE_INVOICES), {"contract": contract,
                                              "invoices": invoice_lines // 10, "per": 10})
    session.execute(text(FILL_TOTALS))
    session.commit()
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    total_lines = session.scalar(text("SELECT count(*) FROM inv_line"))
    region = session.scalar(text(
        "SELECT home_unit_id FROM ab_user WHERE username = 'accountant'"))
    matching = session.scalar(text(RAW_COUNT), {"region": region})
    print(f"generated invoices in {time.perf_counter() - start:.1f} s: {total_lines:,} "
          f"invoice lines; the accountant's region holds {matching:,} invoices to "
          "organisations")
    session.remove()
    engine = db.engine
    client = app.test_client()
    _login(client, "accountant")
    url = "/organisationinvoiceview/list/"
    assert client.get(url).status_code == 200

    def raw_page():
        with engine.connect() as conn:
            conn.execute(text(RAW_LIST), {"region": region}).all()
            conn.execute(text(RAW_COUNT), {"region": region}).all()

    http, sql, base, queries, security = [], [], [], 0, 0
    for i in range(repeat + 1):
        order = (0, 1) if i % 2 else (1, 0)
        for which in order:
            if which == 0:
                with Recorder(engine) as recorder:
                    spent = _ms(lambda: client.get(url))
                if i:
                    http.append(spent)
                    sql.append(recorder.db_ms)
                queries = max(queries, len(recorder.statements))
                security = max(security, sum(any(t in s for t in SECURITY_TABLES)
                                             for s in recorder.statements))
            else:
                spent = _ms(raw_page)
                if i:
                    base.append(spent)
    h, s, b = (statistics.median(x) for x in (http, sql, base))
    print(f"accountant's list of invoices to organisations (25 rows + count), median of "
          f"{repeat}, interleaved:")
    print(f"  HTTP {h:.1f} ms, its SQL {s:.1f} ms, raw SQL (rows + exact count) {b:.1f} ms; "
          f"SQL/raw {s / b:.2f}, HTTP/raw {h / b:.2f}; {queries} queries, "
          f"{security} security")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--invoice-lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with postgres_database(PG_SERVER) as url:
        if url is None:
            return
        print(_pg_version(url))
        with migrated_app(url) as app:
            from app.extensions import db
            from demo.loader import load_demo
            from security.sync import sync_all

            sync_all(db.session, app.appbuilder)
            db.session.commit()
            load_demo(db.session)
            invoicing(app, args.lines, args.repeat)
            listing(app, args.invoice_lines, args.repeat)


if __name__ == "__main__":
    main()
