"""Attachment import benchmark on PostgreSQL: the import framework («Импорт
прикреплений», services.imports.patient_specs through engine.run) against `COPY` of
the same parsed rows, in the same run, interleaved.

    .venv/bin/python -m bench.imports [--rows 100000] [--small 25000] [--repeat 2]

It migrates a fresh PostgreSQL database (created and dropped), adds a branch, an
insurer, a DMS contract with 20 programmes and N patients (Core inserts), writes a
CSV of N attachment rows (patient by full name and birth date, programme by code),
then, `--repeat` times, alternately:

* the framework import: read, per-row checks by the screen's rule
  (check_attachment), ORM inserts with the journal hook, one transaction; the table
  is emptied afterwards (TRUNCATE ... outside the timing);
* the baseline: `COPY pat_attachment_copy (...) FROM STDIN` (psycopg 3) of the same
  rows already parsed (ids resolved), into a copy of the table with its indexes.

Memory: tracemalloc's peak of one import of N rows and one of `--small` rows (the file
itself, held in memory, subtracted): flat in file size means the two are close.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import time
import tracemalloc

from bench.common import PG_SERVER, _pg_version, migrated_app, postgres_database

PROGRAMMES = 20
HEADER = ["Фамилия", "Имя", "Отчество", "Дата рождения", "Код программы", "Прикреплён с",
          "Прикреплён по", "Номер полиса"]
COPY = ("COPY pat_attachment_copy (patient_id, programme_id, valid_from, valid_to, "
        "policy_number) FROM STDIN")


def build(session, rows: int):
    """Add the reference rows and `rows` patients; return the programmes' codes."""
    from sqlalchemy import insert

    from models.contracts import Contract
    from models.org import Unit
    from models.parties import Insurer
    from models.patients import Patient, name_key
    from models.programmes import Programme

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
    session.flush()
    people = [{"last_name": f"Бенчмарков{i}", "first_name": "Иван", "middle_name": "Петрович",
               "birth_date": dt.date(1950, 1, 1) + dt.timedelta(days=i % 20000), "sex": "m",
               "home_branch_id": branch.id,
               "name_key": name_key(f"Бенчмарков{i}", "Иван", "Петрович")}
              for i in range(rows)]
    for i in range(0, rows, 10_000):
        session.execute(insert(Patient), people[i:i + 10_000])
    session.commit()
    return codes


def csv_file(rows: int, codes: list[str]) -> bytes:
    """Return the CSV of `rows` attachments: patient i to programme i mod 20."""
    lines = [";".join(HEADER)]
    for i in range(rows):
        born = (dt.date(1950, 1, 1) + dt.timedelta(days=i % 20000)).strftime("%d.%m.%Y")
        lines.append(f"Бенчмарков{i};Иван;Петрович;{born};{codes[i % len(codes)]};"
                     f"01.02.2026;31.12.2026;П-{i}")
    return "\n".join(lines).encode()


def parsed_rows(session, data: bytes, spec):
    """Return the file's rows as COPY takes them (ids resolved), outside any timing."""
    from sqlalchemy import select

    from models.patients import Patient, name_key
    from models.programmes import Programme
    from services.imports.framework import reader, values

    ids = dict(session.execute(select(Patient.name_key, Patient.id)).all())
    programmes = dict(session.execute(select(Programme.code, Programme.id)).all())
    out = []
    for _line, v in reader.read("a.csv", data, spec.columns):
        out.append((ids[name_key(v[0], v[1], v[2])], programmes[v[5]], values.date(v[6]),
                    values.date(v[7]), v[8]))
    return out


def framework(session, spec, rights, data: bytes) -> float:
    from services.imports.framework import engine

    gc.collect()
    start = time.perf_counter()
    report = engine.run(session, spec, "bench.csv", data, rights, dry_run=False)
    seconds = time.perf_counter() - start
    if report.inserted != report.total:
        sys.exit(f"inserted {report.inserted} of {report.total}: {report.errors[:3]}")
    return seconds


def copy(session, rows) -> float:
    connection = session.connection()
    gc.collect()
    start = time.perf_counter()
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(COPY) as stream:
        for row in rows:
            stream.write_row(row)
    session.commit()
    return time.perf_counter() - start


def empty(session) -> None:
    from sqlalchemy import text

    # CASCADE: the tables referencing attachments (vouchers' lines...) are empty here.
    session.execute(text("TRUNCATE pat_attachment, pat_attachment_copy, change_journal, "
                         "import_log CASCADE"))
    session.commit()


def peak(session, spec, rights, data: bytes) -> float:
    """Return tracemalloc's peak (MB) of one import, less the file's size."""
    from services.imports.framework import engine

    empty(session)
    gc.collect()
    tracemalloc.start()
    engine.run(session, spec, "bench.csv", data, rights, dry_run=False)
    _current, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (top - len(data)) / 1024 / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=25_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--pg-server", default=PG_SERVER)
    args = parser.parse_args(argv)
    with postgres_database(args.pg_server) as url:
        if url is None:
            return 0
        print(_pg_version(url))
        with migrated_app(url):
            from sqlalchemy import text

            from app.extensions import db
            from core.actor import set_actor
            from security.effective import EffectiveRights
            from security.scope import Scope
            from services.imports.framework import registry

            set_actor(None, "bench")
            session = db.session
            session.execute(text("CREATE TABLE pat_attachment_copy "
                                 "(LIKE pat_attachment INCLUDING ALL)"))
            codes = build(session, args.rows)
            rights = EffectiveRights(user_id=None, username="bench", roles=frozenset(),
                                     is_admin=True, permissions=frozenset(), values={},
                                     scope=Scope.everything())
            spec = registry.get("attachments")
            data = csv_file(args.rows, codes)
            rows = parsed_rows(session, data, spec)
            print(f"{args.rows} attachment rows, CSV {len(data) / 1024 / 1024:.1f} MB, "
                  f"{PROGRAMMES} programmes")
            print("| run | framework s | rows/s | COPY s | rows/s | ratio |")
            print("|---|---|---|---|---|---|")
            for run in range(1, args.repeat + 1):
                empty(session)
                ours = framework(session, spec, rights, data)
                base = copy(session, rows)
                print(f"| {run} | {ours:.2f} | {args.rows / ours:,.0f} | {base:.2f} | "
                      f"{args.rows / base:,.0f} | {ours / base:.1f}x |")
            small = csv_file(args.small, codes)
            big_peak = peak(session, spec, rights, data)
            small_peak = peak(session, spec, rights, small)
            print(f"tracemalloc peak less the file: {args.small} rows {small_peak:.1f} MB, "
                  f"{args.rows} rows {big_peak:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
