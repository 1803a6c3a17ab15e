"""Import benchmark on PostgreSQL: the import framework (engine.run, one transaction,
the services' rules) against `COPY` of the same parsed rows, in the same run, round by
round alternately first:

* «Импорт прикреплений»: N attachment rows (patient by full name and birth date,
  programme by code) against `COPY pat_attachment_copy` of the rows with ids resolved;
* «Импорт талонов»: M voucher lines, ten per voucher (voucher by number, branch, date
  and patient; service by code; half the prices typed, half from the price list)
  against `COPY` of the vouchers and lines (ids resolved, amounts computed) into
  copies of vch_voucher and vch_line with their indexes.

    .venv/bin/python -m bench.imports [--rows 100000] [--lines 1000000] [--repeat 2]

The database (`--database`, default uchet_bulk) is created, migrated and dropped. The
framework's tables are emptied between rounds (TRUNCATE, outside the timing). The file
limits of the screens (20 MB, 200,000 rows) are lifted for the bench's big files.

Memory: tracemalloc's peak of one import at two file sizes (the file itself, held in
memory, subtracted): flat in file size means the two are close. Figures are printed,
never asserted; the load average is printed with them (two CPUs shared).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import os
import sys
import time
import tracemalloc
from decimal import Decimal

from bench.common import PG_SERVER, _pg_version, migrated_app

PROGRAMMES = 20
SERVICES = 200
PER_VOUCHER = 10
BIG = {"max_bytes": 1 << 30, "max_rows": 10_000_000}
HEADER = ["Фамилия", "Имя", "Отчество", "Дата рождения", "Код программы", "Прикреплён с",
          "Прикреплён по", "Номер полиса"]
V_HEADER = ["Номер талона", "Код филиала", "Дата", "Фамилия", "Имя", "Отчество",
            "Дата рождения", "Код услуги", "Количество", "Цена"]
COPY = ("COPY pat_attachment_copy (patient_id, programme_id, valid_from, valid_to, "
        "policy_number) FROM STDIN")
V_COPY = ("COPY vch_voucher_copy (id, service_date, kind, branch_id, patient_id, "
          "external_number, total, line_count, created_by_id, created_on, source, version) "
          "FROM STDIN")
L_COPY = ("COPY vch_line_copy (voucher_id, service_id, quantity, price, discount, amount, "
          "payer_kind, state, service_date, branch_id, category_id, price_type_id) FROM STDIN")


@contextlib.contextmanager
def database(server: str, name: str):
    """Create the database `name` (dropped first if a run left it) and drop it after."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def born(i: int) -> dt.date:
    return dt.date(1950, 1, 1) + dt.timedelta(days=i % 20000)


def build(session, rows: int):
    """Add the reference rows and `rows` patients; return (programme codes, services)."""
    from sqlalchemy import insert

    from models.contracts import Contract
    from models.org import Unit
    from models.parties import Insurer
    from models.patients import Patient, name_key
    from models.pricelist import Price, Service
    from models.programmes import Programme
    from models.refbooks import Currency, PriceCategory, PriceType

    branch = Unit(code="B-BR", name="Филиал (бенчмарк)", kind="branch", active=True)
    session.add(branch)
    session.flush()
    insurer = Insurer(code="B-INS", name="СК (бенчмарк)", unit_id=branch.id)
    session.add(insurer)
    session.flush()
    contract = Contract(kind="dms", number="Б-1", signed_on=dt.date(2026, 1, 1),
                        valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2026, 12, 31),
                        payment_scheme="postpaid", insurer=insurer, branch=branch,
                        network=False)
    session.add(contract)
    session.flush()
    codes = []
    for i in range(PROGRAMMES):
        session.add(Programme(contract=contract, code=f"B-PRG{i}", name=f"Программа {i}",
                              period_months=12, active=True))
        codes.append(f"B-PRG{i}")
    paid = PriceType(code="B-PAID", name="Платные (бенчмарк)", funding="paid")
    category = PriceCategory(code="B-CAT", name="Категория (бенчмарк)", price_type=paid,
                             branches=[branch])
    rub = session.query(Currency).filter_by(code="RUB").first() or Currency(
        code="RUB", name="Рубль")
    services = []
    for i in range(SERVICES):
        item = Service(code=f"B-SVC{i}", name=f"Услуга {i}")
        amount = Decimal(500 + 10 * i)
        session.add(Price(service=item, category=category, amount=amount, currency=rub,
                          valid_from=dt.date(2000, 1, 1)))
        services.append((item, amount))
    session.flush()
    people = [{"last_name": f"Бенчмарков{i}", "first_name": "Иван", "middle_name": "Петрович",
               "birth_date": born(i), "sex": "m", "home_branch_id": branch.id,
               "name_key": name_key(f"Бенчмарков{i}", "Иван", "Петрович")}
              for i in range(rows)]
    for i in range(0, rows, 10_000):
        session.execute(insert(Patient), people[i:i + 10_000])
    session.commit()
    return codes, [(s.code, s.id, amount) for s, amount in services], category.id, paid.id


def csv_file(rows: int, codes: list[str]) -> bytes:
    """Return the CSV of `rows` attachments: patient i to programme i mod 20."""
    lines = [";".join(HEADER)]
    for i in range(rows):
        lines.append(f"Бенчмарков{i};Иван;Петрович;{born(i):%d.%m.%Y};{codes[i % len(codes)]};"
                     f"01.02.2026;31.12.2026;П-{i}")
    return "\n".join(lines).encode()


def voucher_file(lines: int, patients: int, services) -> bytes:
    """Return the CSV of `lines` voucher lines, PER_VOUCHER to a voucher, each voucher
    of a patient on a day of 2026; even lines with the list price typed, odd ones empty."""
    out = [";".join(V_HEADER)]
    for i in range(lines):
        v = i // PER_VOUCHER
        p = v % patients
        day = dt.date(2026, 1, 1) + dt.timedelta(days=v % 300)
        code, _sid, amount = services[i % len(services)]
        price = f"{amount:.2f}".replace(".", ",") if i % 2 == 0 else ""
        out.append(f"Т-{v};B-BR;{day:%d.%m.%Y};Бенчмарков{p};Иван;Петрович;{born(p):%d.%m.%Y};"
                   f"{code};{1 + i % 3};{price}")
    return "\n".join(out).encode()


def parsed_attachments(session, data: bytes, spec):
    """Return the file's rows as COPY takes them (ids resolved), outside any timing."""
    from sqlalchemy import select

    from models.patients import Patient, name_key
    from models.programmes import Programme
    from services.imports.framework import reader, values

    ids = dict(session.execute(select(Patient.name_key, Patient.id)).all())
    programmes = dict(session.execute(select(Programme.code, Programme.id)).all())
    return [(ids[name_key(v[0], v[1], v[2])], programmes[v[5]], values.date(v[6]),
             values.date(v[7]), v[8])
            for _line, v in reader.read("a.csv", data, spec.columns, **BIG)]


def parsed_vouchers(session, data: bytes, spec, category_id, paid_id):
    """Return (vouchers, lines) of the voucher file as COPY takes them: ids resolved,
    voucher ids numbered, amounts and totals computed, outside any timing."""
    from sqlalchemy import select

    from models.org import Unit
    from models.patients import Patient, name_key
    from models.pricelist import Service
    from services.imports.framework import reader, values
    from services.vouchers.pricing import line_amount

    ids = dict(session.execute(select(Patient.name_key, Patient.id)).all())
    services = dict(session.execute(select(Service.code, Service.id)).all())
    listed = {s: a for _c, s, a in SERVICE_LIST}
    branch = session.scalar(select(Unit.id).where(Unit.code == "B-BR"))
    now = dt.datetime(2026, 12, 7)
    vouchers, lines, index = {}, [], {}
    for _line, v in reader.read("v.csv", data, spec.columns, **BIG):
        day = values.date(v[2])
        key = (v[0], day, ids[name_key(v[3], v[4], v[5])])
        if key not in index:
            index[key] = len(index) + 1
            vouchers[key] = [index[key], day, "regular", branch, key[2], v[0], Decimal(0), 0,
                             None, now, "manual", 1]
        sid = services[v[8]]
        quantity = int(v[9])
        price = values.amount(v[10]) if v[10] else listed[sid]
        amount = line_amount(price, quantity, Decimal(0))
        vouchers[key][6] += amount
        vouchers[key][7] += 1
        lines.append((index[key], sid, quantity, price, Decimal(0), amount, "patient",
                      "rendered", day, branch, category_id, paid_id))
    return list(vouchers.values()), lines


SERVICE_LIST: list = []
#: The bench process's CPU seconds of each import (the machine is shared: wall time
#: includes waiting for a CPU).
CPU: list[float] = []


def timed_import(session, spec, rights, data: bytes, name: str) -> float:
    from services.imports.framework import engine

    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    try:
        report = engine.run(session, spec, name, data, rights, dry_run=False, **BIG)
    except engine.ImportRefused as exc:
        sys.exit(f"{exc}: {exc.plan.errors[:3] if exc.plan else ''}")
    seconds = time.perf_counter() - start
    CPU.append(time.process_time() - cpu)
    if report.inserted != report.total:
        sys.exit(f"inserted {report.inserted} of {report.total}: {report.errors[:3]}")
    return seconds


def timed_copy(session, *pairs) -> float:
    """COPY each (statement, rows) in one transaction; return the seconds."""
    connection = session.connection()
    gc.collect()
    start = time.perf_counter()
    for statement, rows in pairs:
        cursor = connection.connection.driver_connection.cursor()
        with cursor, cursor.copy(statement) as stream:
            for row in rows:
                stream.write_row(row)
    session.commit()
    return time.perf_counter() - start


def empty(session) -> None:
    from sqlalchemy import text

    # CASCADE: the tables referencing attachments and vouchers are empty here.
    session.execute(text("TRUNCATE pat_attachment, pat_attachment_copy, vch_line, vch_voucher, "
                         "vch_line_copy, vch_voucher_copy, change_journal, import_log CASCADE"))
    session.commit()


def peak(session, spec, rights, data: bytes) -> tuple[float, float]:
    """Return (tracemalloc's peak of one import, the file's size), MB: the file is
    held in memory before the trace starts."""
    from services.imports.framework import engine

    empty(session)
    gc.collect()
    tracemalloc.start()
    engine.run(session, spec, "memory.csv", data, rights, dry_run=False, **BIG)
    _current, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top / 2**20, len(data) / 2**20


def rounds(session, label, rows, repeat, ours, base) -> None:
    """Print `repeat` rounds of the import against its COPY, alternately first."""
    print(f"\n{label}")
    print("| round | load avg | framework s | its CPU s | rows/s | COPY s | rows/s | ratio |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    for run in range(1, repeat + 1):
        empty(session)
        if run % 2:
            mine, theirs = ours(), base()
        else:
            theirs = base()
            empty(session)
            mine = ours()
        print(f"| {run} | {os.getloadavg()[0]:.2f} | {mine:.2f} | {CPU[-1]:.2f} | "
              f"{rows / mine:,.0f} | "
              f"{theirs:.2f} | {rows / theirs:,.0f} | {mine / theirs:.2f}x |", flush=True)


def print_memory(attachments: list, vouchers: list) -> None:
    """Print the peaks measured: [(rows, (peak MB, file MB))] of each import."""
    print("\ntracemalloc peak of one import (the file, held before, apart):")
    for name, pairs in (("attachments", attachments), ("voucher lines", vouchers)):
        if pairs:
            print("  " + name + ": " + ", ".join(
                f"{n:,} rows ({size:.1f} MB file) {mb:.1f} MB" for n, (mb, size) in pairs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="attachment rows")
    parser.add_argument("--lines", type=int, default=1_000_000, help="voucher lines")
    parser.add_argument("--memory-lines", type=int, default=250_000,
                        help="voucher lines of the bigger memory run (the other a quarter)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--database", default="uchet_bulk")
    parser.add_argument("--pg-server", default=PG_SERVER)
    args = parser.parse_args(argv)
    with database(args.pg_server, args.database) as url:
        print(_pg_version(url), f"— load average {os.getloadavg()[0]:.2f}, "
              f"{os.cpu_count()} CPUs")
        with migrated_app(url):
            from sqlalchemy import text

            from app.extensions import db
            from core.actor import set_actor
            from security.effective import EffectiveRights
            from security.scope import Scope
            from services.imports.framework import registry

            set_actor(None, "bench")
            session = db.session
            for table in ("pat_attachment", "vch_voucher", "vch_line"):
                session.execute(text(f"CREATE TABLE {table}_copy "
                                     f"(LIKE {table} INCLUDING ALL)"))
            patients = max(args.rows, args.lines // PER_VOUCHER // 3, 1)
            codes, services, category_id, paid_id = build(session, patients)
            SERVICE_LIST[:] = services
            rights = EffectiveRights(user_id=None, username="bench", roles=frozenset(),
                                     is_admin=True, permissions=frozenset(),
                                     # The file names no nurse nor diagnosis, and
                                     # its patients are attached to no programme.
                                     values={"voucher.without_staff": "allow",
                                             "voucher.without_diagnosis": "allow",
                                             "voucher.without_attachment": "allow"},
                                     scope=Scope.everything())
            spec = registry.get("attachments")
            data = csv_file(args.rows, codes)
            rows = parsed_attachments(session, data, spec)
            print(f"{args.rows:,} attachment rows (CSV {len(data) / 2**20:.1f} MB), "
                  f"{args.lines:,} voucher lines in {args.lines // PER_VOUCHER:,} vouchers, "
                  f"{patients:,} patients")
            rounds(session, f"Attachments: {args.rows:,} rows", args.rows, args.repeat,
                   lambda: timed_import(session, spec, rights, data, "a.csv"),
                   lambda: timed_copy(session, (COPY, rows)))
            small = csv_file(max(args.rows // 4, 1), codes)
            memory = [(args.rows // 4, peak(session, spec, rights, small)),
                      (args.rows, peak(session, spec, rights, data))]
            if not args.lines:
                vmemory = []
                print_memory(memory, vmemory)
                return 0
            vspec = registry.get("vouchers")
            vdata = voucher_file(args.lines, patients, services)
            vouchers, lines = parsed_vouchers(session, vdata, vspec, category_id, paid_id)
            print(f"\nvoucher CSV {len(vdata) / 2**20:.1f} MB")
            rounds(session, f"Vouchers: {args.lines:,} lines", args.lines, args.repeat,
                   lambda: timed_import(session, vspec, rights, vdata, "v.csv"),
                   lambda: timed_copy(session, (V_COPY, vouchers), (L_COPY, lines)))
            big = min(args.memory_lines, args.lines)
            vmemory = [(n, peak(session, vspec, rights, voucher_file(n, patients, services)))
                       for n in (max(big // 4, PER_VOUCHER), big)]
            print_memory(memory, vmemory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
