"""Export to accounting benchmark on PostgreSQL: a month of N cash lines of one branch
exported as 1C EnterpriseData XML (services.export.run.export: scoped streaming read,
grouping by shift, escaped incremental XML, the file kept in 1 MB pieces) against a
hand-written `COPY (SELECT … the same rows and joins …) TO STDOUT` into a file, in the
same run, round by round, alternately first.

    .venv/bin/python -m bench.export [--lines 1000000] [--repeat 2] [--xlsx]

It (re)creates its own database `uchet_export` (dropped and made again each run),
migrates it, adds a branch, a register, 31 shifts (one a day), 200 services with export
codes, one patient with 1,000 voucher lines and N payment/refund transactions spread
over the month (INSERT … SELECT generate_series). Each export runs in a transaction
rolled back afterwards (its log and pieces are not kept).

Memory: tracemalloc's peak of one export of `--small` lines and one of `--mid` lines
(a window of the month's days): flat in the size means the two are close. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import tempfile
import time
import tracemalloc

from bench.common import PG_SERVER, _pg_version, migrated_app

DATABASE = "uchet_export"
MONTH = dt.date(2026, 11, 1)
DAYS = 30
SERVICES = 200
VOUCHER_LINES = 1000
BASELINE = """
COPY (SELECT t.id, t.shift_id, s.number, t.posted_on, t.kind, r.fiscal_number,
             coalesce(ps.name, ''), coalesce(sv.code, ''), coalesce(sv.name, ''),
             coalesce(ec.code, ''), coalesce(ec.account, ''),
             CASE WHEN t.kind = 'refund' THEN -t.amount ELSE t.amount END
      FROM money_transaction t
      JOIN money_shift s ON s.id = t.shift_id
      LEFT JOIN money_receipt r ON r.id = t.receipt_id
      LEFT JOIN ref_payment_section ps ON ps.id = t.section_id
      LEFT JOIN vch_line vl ON vl.id = t.voucher_line_id
      LEFT JOIN price_service sv ON sv.id = vl.service_id
      LEFT JOIN ref_export_code ec ON ec.id = sv.export_code_id
      WHERE t.branch_id = {branch} AND t.posted_on BETWEEN '{start}' AND '{end}'
        AND t.kind IN ('payment', 'refund') AND NOT t.reversed AND t.shift_id IS NOT NULL
      ORDER BY t.shift_id, t.id) TO STDOUT
"""


def recreate(server: str) -> str:
    """Drop and create the bench's own database; return its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return url.set(database=DATABASE).render_as_string(hide_password=False)


def build(session, lines: int) -> int:
    """Add the rows described in the module doc; return the branch's id."""
    from sqlalchemy import insert, text

    from models.money import Account, Register, Shift
    from models.org import Unit
    from models.patients import Patient, name_key
    from models.pricelist import Service
    from models.refbooks import ExportCode
    from models.vouchers import Voucher, VoucherLine

    branch = Unit(code="BX", name="Филиал (экспорт)", kind="branch", active=True)
    session.add(branch)
    session.flush()
    codes = [ExportCode(code=f"EX{i}", name=f"Код {i}", account=f"90.01.{i}") for i in range(5)]
    services = [Service(code=f"S{i:04d}", name=f"Услуга «{i}» & <анализ>", insurance="none",
                        export_code=codes[i % 5]) for i in range(SERVICES)]
    patient = Patient(last_name="Экспортов", first_name="Иван", birth_date=dt.date(1980, 1, 1),
                      sex="m", home_branch_id=branch.id,
                      name_key=name_key("Экспортов", "Иван", ""))
    session.add_all([*codes, *services, patient])
    session.flush()
    voucher = Voucher(service_date=MONTH, branch_id=branch.id, patient_id=patient.id)
    session.add(voucher)
    session.flush()
    session.execute(insert(VoucherLine), [
        {"voucher_id": voucher.id, "service_id": services[i % SERVICES].id, "quantity": 1,
         "price": 1000, "amount": 1000, "service_date": MONTH, "branch_id": branch.id,
         "state": "paid"} for i in range(VOUCHER_LINES)])
    register = Register(branch_id=branch.id, name="Касса", serial="BX-1", vat_rate=-1)
    account = Account(kind="patient", branch_id=branch.id, patient_id=patient.id)
    session.add_all([register, account])
    session.flush()
    session.add_all([Shift(register_id=register.id, branch_id=branch.id, number=d + 1,
                           state="closed", opened_on=dt.datetime.combine(
                               MONTH + dt.timedelta(days=d), dt.time(8)))
                     for d in range(DAYS)])
    session.flush()
    session.execute(text("""
        INSERT INTO money_transaction (idem_key, branch_id, account_id, kind, source, amount,
            delta, discount_amount, voucher_line_id, shift_id, reversed, posted_on, created_on)
        SELECT 'bx-' || g, :branch, :account,
               CASE WHEN g % 20 = 0 THEN 'refund' ELSE 'payment' END, 'desk',
               100 + (g % 900), 100 + (g % 900), 0, :line + g % :lines,
               :shift + CAST(g * :days / :n AS integer), false,
               CAST(:month AS date) + CAST(g * :days / :n AS integer), now()
        FROM generate_series(0, CAST(:n AS integer) - 1) AS g"""),
        {"branch": branch.id, "account": account.id, "n": lines, "days": DAYS,
         "line": session.scalar(text("SELECT min(id) FROM vch_line")),
         "lines": VOUCHER_LINES, "month": MONTH.isoformat(),
         "shift": session.scalar(text("SELECT min(id) FROM money_shift"))})
    session.commit()
    session.execute(text("ANALYZE"))
    return branch.id


def ours(session, rights, req) -> tuple[float, int]:
    """Return the seconds and the file size of one export (rolled back)."""
    from services.export.run import export

    gc.collect()
    start = time.perf_counter()
    log = export(session, rights, req)
    seconds, size = time.perf_counter() - start, log.size
    session.rollback()
    return seconds, size


def baseline(session, branch: int, start: dt.date, end: dt.date) -> tuple[float, int]:
    """Return the seconds and the size of the hand-written COPY of the same rows."""
    sql = BASELINE.format(branch=branch, start=start, end=end)
    gc.collect()
    began = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        cursor = session.connection().connection.driver_connection.cursor()
        with cursor, cursor.copy(sql) as stream:
            for data in stream:
                out.write(data)
        size = out.tell()
    seconds = time.perf_counter() - began
    session.rollback()
    return seconds, size


def peak(session, rights, req) -> tuple[float, int]:
    """Return tracemalloc's peak (MB) of one export and its lines."""
    from services.export.run import export

    gc.collect()
    tracemalloc.start()
    log = export(session, rights, req)
    _current, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    lines = log.lines
    session.rollback()
    return top / 1024 / 1024, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--small", type=int, default=3, help="days of the small memory run")
    parser.add_argument("--mid", type=int, default=12, help="days of the larger memory run")
    parser.add_argument("--xlsx", action="store_true", help="also time one XLSX export")
    parser.add_argument("--pg-server", default=PG_SERVER)
    args = parser.parse_args(argv)
    url = recreate(args.pg_server)
    print(_pg_version(url))
    with migrated_app(url):
        from app.extensions import db
        from core.actor import set_actor
        from security.effective import EffectiveRights
        from security.scope import Scope
        from services.export.run import Request

        set_actor(None, "bench")
        session = db.session
        began = time.perf_counter()
        branch = build(session, args.lines)
        print(f"{args.lines:,} cash lines over {DAYS} days built in "
              f"{time.perf_counter() - began:.0f} s")
        rights = EffectiveRights(user_id=None, username="bench", roles=frozenset(),
                                 is_admin=True, permissions=frozenset(), values={},
                                 scope=Scope.everything())
        end = MONTH + dt.timedelta(days=DAYS - 1)
        month = Request("cash", "xml", branch, MONTH, end)
        print("| round | export XML s | lines/s | file MB | COPY s | COPY MB | ratio |")
        print("|---|---|---|---|---|---|---|")
        for run in range(1, args.repeat + 1):
            pair = [lambda: ours(session, rights, month),
                    lambda: baseline(session, branch, MONTH, end)]
            if run % 2 == 0:  # alternately first: neither always gets the warm cache
                (b_s, b_size), (o_s, o_size) = pair[1](), pair[0]()
            else:
                (o_s, o_size), (b_s, b_size) = pair[0](), pair[1]()
            print(f"| {run} | {o_s:.1f} | {args.lines / o_s:,.0f} | {o_size / 2**20:.0f} | "
                  f"{b_s:.1f} | {b_size / 2**20:.0f} | {o_s / b_s:.1f}x |")
        if args.xlsx:
            o_s, o_size = ours(session, rights, Request("cash", "xlsx", branch, MONTH, end))
            print(f"XLSX: {o_s:.1f} s, {args.lines / o_s:,.0f} lines/s, "
                  f"{o_size / 2**20:.0f} MB")
        for days in (args.small, args.mid):
            req = Request("cash", "xml", branch, MONTH, MONTH + dt.timedelta(days=days - 1))
            top, lines = peak(session, rights, req)
            print(f"tracemalloc peak of an export of {lines:,} lines ({days} days): "
                  f"{top:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
