"""Price list import benchmark: services.imports.prices against PostgreSQL's COPY.

    .venv/bin/python -m bench.price_import [--rows 100000] [--db sqlite|postgres|both]

For each database it builds a fresh schema the way the tests do (create_app +
Alembic upgrade; SQLite in a temporary file, PostgreSQL in a database it creates
and drops), inserts N services, a few price categories, a currency and a tax,
writes an XLSX and a CSV of N price rows (one per service, categories in turn),
then, for each file:

* times parse, validate and commit separately (an empty price table), and the
  total in rows per second;
* times a re-import of the same file (every row unchanged, 0 inserted);
* measures memory in a second import under tracemalloc (its peak; run last, as
  tracemalloc's bookkeeping inflates the RSS), and reports the process's ru_maxrss
  before and after the timed imports (with --db both, the postgres figures include
  the sqlite run's peak: run --db postgres alone for its own).

On PostgreSQL the baseline is `COPY price_price_copy (...) FROM STDIN` of the
same rows (psycopg 3 `cursor.copy`, values already parsed) into an empty copy of
the table with its indexes, checks and foreign keys, in the same run; the import's
commit itself uses COPY there, and the report also times the same rows inserted by
a Core executemany (what SQLite uses) for comparison. Timings are printed, never
asserted; a wrong count of inserted rows exits with status 1.
"""

from __future__ import annotations

import argparse
import csv
import gc
import multiprocessing
import os
import platform
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path

from bench.common import PG_SERVER, _pg_version, migrated_app, postgres_database

CATEGORIES = 4
HEADER = ["Код услуги", "Категория цен", "Действует с", "Действует по", "Цена", "Валюта",
          "Налог"]
COPY_COLUMNS = "service_id, category_id, valid_from, valid_to, amount, currency_id, tax_id"


class WrongCount(Exception):
    """An import inserted another number of rows than the file holds."""


@dataclass
class Line:
    """One line of the report."""

    db: str
    step: str
    seconds: float
    rows: int
    peak_mb: float | None = None

    def cells(self) -> list[str]:
        rate = f"{self.rows / self.seconds:,.0f}".replace(",", " ") if self.seconds else ""
        peak = "" if self.peak_mb is None else f"{self.peak_mb:.0f}"
        return [self.db, self.step, f"{self.seconds:.2f}", rate, peak]


def print_table(lines: list[Line]) -> None:
    """Print the report as a Markdown table."""
    head = ["db", "step", "seconds", "rows/s", "tracemalloc peak MB"]
    body = [line.cells() for line in lines]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]

    def fmt(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if i < 2 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths, strict=True))) + " |"

    print(fmt(head))
    print("|" + "|".join("-" * (w + 2) if i < 2 else "-" * (w + 1) + ":"
                         for i, w in enumerate(widths)) + "|")
    for cells in body:
        print(fmt(cells))


# --- data ------------------------------------------------------------------------------


def price_rows(n: int, seed: int) -> list[list]:
    """Return n price rows as cell values: service i in category i mod CATEGORIES."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        start = f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2026"
        end = f"31.12.{rng.choice((2026, 2027))}" if i % 3 == 0 else ""
        amount = Decimal(rng.randint(100, 2_000_000)) / 100
        rows.append([f"B{i:07d}", f"BC{i % CATEGORIES}", start, end, amount, "RUB",
                     "BVAT" if i % 2 else ""])
    return rows


def write_csv(path: Path, rows: list[list]) -> None:
    """Write what Russian Excel saves: UTF-8 with BOM, semicolons, comma decimals."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow([*row[:4], f"{row[4]:.2f}".replace(".", ","), *row[5:]])


def write_xlsx(path: Path, rows: list[list]) -> None:
    """Write a book with real Excel dates and numbers. Not in write-only mode: that
    leaves out <dimension>, which Excel always writes and without which openpyxl's
    read-only reader parses the whole sheet once more."""
    import datetime as dt

    from openpyxl import Workbook

    def day(text: str):
        return dt.datetime.strptime(text, "%d.%m.%Y") if text else None

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append([row[0], row[1], day(row[2]), day(row[3]), float(row[4]), row[5],
                      row[6] or None])
    book.save(path)


def write_files(directory: Path, n: int, seed: int) -> None:
    """Write prices.xlsx and prices.csv with the same n rows."""
    rows = price_rows(n, seed)
    write_xlsx(directory / "prices.xlsx", rows)
    write_csv(directory / "prices.csv", rows)


def seed_reference_books(session, n: int) -> None:
    """Insert n services (one executemany), the categories, RUB and a VAT rate."""
    from sqlalchemy import insert

    from models import Currency, PriceCategory, PriceType, Service, Tax

    session.execute(insert(Service), [
        {"code": f"B{i:07d}", "name": f"Услуга {i}", "insurance": "none", "composite": False,
         "active": True} for i in range(n)])
    price_type = PriceType(code="BPAID", name="Платные", funding="paid")
    session.add_all([price_type, Currency(code="RUB", name="Российский рубль", symbol="₽"),
                     Tax(code="BVAT", name="НДС 20 %", rate=Decimal("20"))])
    session.add_all(PriceCategory(code=f"BC{k}", name=f"Категория {k}", price_type=price_type)
                    for k in range(CATEGORIES))
    session.commit()


def bench_rights():
    """A user whose «Импорт прейскуранта услуг» is "all branches" (not an administrator)."""
    from security.effective import EffectiveRights
    from security.scope import Scope

    return EffectiveRights(user_id=None, username="bench", roles=frozenset({"bench"}),
                           is_admin=False, permissions=frozenset(),
                           values={"import.service_prices": "all"}, scope=Scope.everything())


# --- measurements ----------------------------------------------------------------------


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def _clear_prices(session) -> None:
    from sqlalchemy import delete

    from models import Price

    session.execute(delete(Price))
    session.commit()


def import_once(session, path: Path, rights, expected: int, db: str, label: str) -> list[Line]:
    """Parse, validate and commit the file into an empty price table; return timed lines."""
    from services.imports import prices as pi

    data = path.read_bytes()
    rows, parse_s = _timed(lambda: pi.parse(path.name, data, max_bytes=len(data)))
    plan, validate_s = _timed(partial(pi.validate, session, rows, rights, filename=path.name))
    if not plan.ok:
        raise WrongCount(f"{label}: {plan.error_rows} rows with errors, first {plan.errors[:3]}")
    summary, commit_s = _timed(partial(pi.commit, session, plan))
    if summary.inserted != expected:
        raise WrongCount(f"{label}: inserted {summary.inserted} of {expected}")
    total = parse_s + validate_s + commit_s
    del rows, plan
    again, again_s = _timed(lambda: _reimport(session, path.name, data, rights))
    if again.inserted or again.unchanged != expected:
        raise WrongCount(f"{label} re-import: inserted {again.inserted}, "
                         f"unchanged {again.unchanged}")
    return [Line(db, f"{label}: parse", parse_s, expected),
            Line(db, f"{label}: validate", validate_s, expected),
            Line(db, f"{label}: commit", commit_s, expected),
            Line(db, f"{label}: total parse + validate + commit", total, expected),
            Line(db, f"{label}: re-import (0 inserted)", again_s, expected)]


def _reimport(session, filename: str, data: bytes, rights):
    from services.imports import prices as pi

    plan = pi.validate(session, pi.parse(filename, data, max_bytes=len(data)), rights,
                       filename=filename)
    return pi.commit(session, plan)


def import_traced(session, path: Path, rights, db: str, label: str, expected: int) -> Line:
    """Import again into an empty table under tracemalloc; return its peak."""
    _clear_prices(session)
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    _reimport(session, path.name, path.read_bytes(), rights)
    seconds = time.perf_counter() - t0
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Line(db, f"{label}: whole import under tracemalloc", seconds, expected,
                peak / 2**20)


def copy_baseline(session, db_session_engine, plan_rows: list[tuple]) -> float:
    """COPY the rows into an empty copy of price_price (indexes, checks, foreign keys)."""
    from sqlalchemy import text

    session.execute(text("DROP TABLE IF EXISTS price_price_copy"))
    session.execute(text("CREATE TABLE price_price_copy (LIKE price_price INCLUDING ALL)"))
    fks = session.execute(text(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'price_price'::regclass AND contype = 'f'")).scalars().all()
    for number, definition in enumerate(fks):
        session.execute(text(f"ALTER TABLE price_price_copy ADD CONSTRAINT "
                             f"price_price_copy_fk{number} {definition}"))
    session.commit()
    raw = db_session_engine.raw_connection()
    try:
        connection = raw.driver_connection
        gc.collect()
        t0 = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(
                f"COPY price_price_copy ({COPY_COLUMNS}) FROM STDIN") as copy:
            for row in plan_rows:
                copy.write_row(row)
        connection.commit()
        seconds = time.perf_counter() - t0
    finally:
        raw.close()
    return seconds


def executemany_alternative(session, plan_rows: list[tuple]) -> float:
    """Insert the rows into the empty price table as SQLite does (a Core executemany per
    chunk of 5,000; psycopg 3 pipelines it): what the import used before COPY."""
    from services.imports import prices as pi

    _clear_prices(session)
    gc.collect()
    t0 = time.perf_counter()
    for i in range(0, len(plan_rows), pi.INSERT_CHUNK):
        session.execute(pi.PRICE_INSERT, [dict(zip(pi.PRICE_FIELDS, row, strict=True))
                                          for row in plan_rows[i:i + pi.INSERT_CHUNK]])
    session.commit()
    seconds = time.perf_counter() - t0
    _clear_prices(session)
    return seconds


def bench_database(url: str, db: str, args, tmp: Path) -> list[Line]:
    """Seed the reference books on `url`, import both files, return the report lines."""
    from sqlalchemy import text

    from app.extensions import db as flask_db
    from core.actor import reset_actor, set_actor
    from services.imports import prices as pi

    lines: list[Line] = []
    with migrated_app(url):
        session = flask_db.session
        token = set_actor(None, "bench")
        seed_reference_books(session, args.rows)
        if flask_db.engine.dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
            session.commit()
        rights = bench_rights()
        gc.collect()
        gc.freeze()
        print(f"{db}: ru_maxrss {_maxrss_mb():.0f} MB before the imports (app and seeded "
              "reference books)", flush=True)
        files = [(tmp / "prices.xlsx", "XLSX"), (tmp / "prices.csv", "CSV")]
        for path, label in files:
            _clear_prices(session)
            lines += import_once(session, path, rights, args.rows, db, label)
        if flask_db.engine.dialect.name == "postgresql":
            _clear_prices(session)
            data = (tmp / "prices.csv").read_bytes()
            plan = pi.validate(session, pi.parse("prices.csv", data), rights)
            session.rollback()
            copy_s = copy_baseline(session, flask_db.engine, plan.new)
            lines.append(Line(db, "baseline: COPY FROM STDIN (values already parsed)", copy_s,
                              len(plan.new)))
            many_s = executemany_alternative(session, plan.new)
            lines.append(Line(db, "for comparison: the same rows by a Core executemany",
                              many_s, len(plan.new)))
            del plan
        print(f"{db}: ru_maxrss {_maxrss_mb():.0f} MB after the timed imports (the process's "
              "peak so far; after another database, also its peak)", flush=True)
        # Last: tracemalloc's own bookkeeping would inflate ru_maxrss.
        for path, label in files:
            lines.append(import_traced(session, path, rights, db, label, args.rows))
        reset_actor(token)
        session.rollback()
        flask_db.session.remove()
        flask_db.engine.dispose()
    gc.unfreeze()
    return lines


def _ratios(lines: list[Line]) -> None:
    copy = {line.db: line.seconds for line in lines if line.step.startswith("baseline")}
    for line in lines:
        if line.db in copy and (line.step.endswith(": commit") or "total" in line.step
                                or "executemany" in line.step):
            print(f"{line.db}: {line.step} / COPY = {line.seconds / copy[line.db]:.1f}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0, or 1 when an import inserted a wrong number of rows."""
    parser = argparse.ArgumentParser(prog="python -m bench.price_import", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="price rows (and services)")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg-server", default=PG_SERVER,
                        help="PostgreSQL server URL (env UCHET_BENCH_PG_SERVER)")
    args = parser.parse_args(argv)
    if not 1 <= args.rows <= 200_000:
        parser.error("--rows must be between 1 and 200000 (the import's limit)")

    tmp = Path(tempfile.mkdtemp(prefix="uchet-bench-"))
    # Never the development instance folder or its database; no production checks.
    os.environ["UCHET_ENV"] = "testing"
    os.environ["UCHET_INSTANCE_DIR"] = str(tmp)
    started = time.perf_counter()
    print(f"uchet price import benchmark: {args.rows} rows, {CATEGORIES} categories; "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs", flush=True)
    lines: list[Line] = []
    try:
        # In a child process, so that ru_maxrss is the import's, not openpyxl's writer's.
        writer = multiprocessing.get_context("fork").Process(
            target=write_files, args=(tmp, args.rows, args.seed))
        writer.start()
        writer.join()
        if writer.exitcode:
            print("could not write the files", file=sys.stderr)
            return 1
        for name in ("prices.xlsx", "prices.csv"):
            print(f"{name}: {(tmp / name).stat().st_size / 2**20:.1f} MB", flush=True)
        if args.db in ("sqlite", "both"):
            print(f"sqlite: SQLite {sqlite3.sqlite_version} (temporary file)", flush=True)
            lines += bench_database(f"sqlite:///{tmp / 'bench.sqlite3'}", "sqlite", args, tmp)
        if args.db in ("postgres", "both"):
            with postgres_database(args.pg_server) as url:
                if url is not None:
                    print(f"postgres: {_pg_version(url)} (fresh database)", flush=True)
                    lines += bench_database(url, "postgres", args, tmp)
    except WrongCount as exc:
        print(f"\nWRONG COUNT: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if lines:
        print()
        print_table(lines)
        print()
        _ratios(lines)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
