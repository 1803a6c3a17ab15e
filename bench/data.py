"""The benchmarks' data set: the demo data plus millions of voucher lines, built once
in a dedicated PostgreSQL database and reused by every later run.

    .venv/bin/python -m bench.data --lines 1000000          # build (or reuse) uchet_perf
    .venv/bin/python -m bench.data --lines 10000000         # uchet_perf_10m

The data is what a network of clinics produces, generated set-based (one INSERT ...
SELECT generate_series per table, no Python loop):

* patients: one per 20 lines, each attached to a branch;
* doctors: 15 per branch;
* vouchers (2.5 lines each): every day of the last two years, each day spread over
  all the branches, their doctors and the patients; ids grow with the date, as they
  do when vouchers are typed day after day;
* three in five visits are sent by a corporate client's office, half of those by the
  first client («Добромед»: its head office and three branches), so a client's
  offices have thousands of visits a month;
* lines: 2 or 3 per voucher, paid (70 %), rendered (25 %) or cancelled (5 %).

A row in `bench_meta` records what was generated; a database holding another size or
generator version is rebuilt.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.common import PG_SERVER, _quiet_stderr

#: Bumped when the generator changes: an older data set is then rebuilt.
GENERATOR = "2"
DAYS = 730
DOCTORS_PER_BRANCH = 15

PATIENTS = """
INSERT INTO pat_patient (last_name, first_name, middle_name, birth_date, sex, home_branch_id,
                         name_key, possible_duplicate)
SELECT 'Пациентов' || g, 'Пациент', NULL, DATE '1950-01-01' + (g * 37 % 25000),
       CASE WHEN g % 2 = 0 THEN 'f' ELSE 'm' END, b.ids[1 + g % cardinality(b.ids)],
       'пациентов' || g || ' пациент', false
FROM generate_series(1, :n) AS g,
     (SELECT array_agg(id ORDER BY id) AS ids FROM org_unit WHERE kind = 'branch') AS b
"""
DOCTORS = """
INSERT INTO staff_employee (last_name, first_name, position, is_doctor, branch_id, active)
SELECT 'Врачев' || u.id || '-' || k, 'Врач', 'Врач', true, u.id, true
FROM org_unit u, generate_series(0, :per - 1) AS k WHERE u.kind = 'branch'
"""
DOCTOR_SLOTS = """
CREATE TABLE bench_doctor AS
SELECT branch_id, (row_number() OVER (PARTITION BY branch_id ORDER BY id) - 1)::int AS n, id
FROM staff_employee WHERE last_name LIKE 'Врачев%'
"""
# g runs over the vouchers in date order; a day's vouchers go round the branches
# (7919 is prime, so consecutive vouchers land in different branches), the doctors of
# the branch and the patients.
VOUCHERS = """
INSERT INTO vch_voucher (service_date, kind, branch_id, patient_id, doctor_id, total,
                         line_count, created_on, version, created_by_id, referring_unit_id,
                         source)
SELECT s.day, 'regular', s.branch, s.patient, d.id, 0, 0, s.day, 1, NULL, s.office, 'manual'
FROM (
  SELECT g, current_date - :days + 1 + (g * :days / :n)::int AS day,
         b.ids[1 + (g * 7919) % cardinality(b.ids)] AS branch,
         :p0 + (g * 104729) % :np AS patient,
         CASE WHEN g % 10 < 3 THEN c1.ids[1 + (g / 10) % cardinality(c1.ids)]
              WHEN g % 10 < 6 THEN c.ids[1 + (g / 10) % cardinality(c.ids)] END AS office
  FROM generate_series(0::bigint, :n - 1) AS g,
       (SELECT array_agg(id ORDER BY id) AS ids FROM org_unit WHERE kind = 'branch') AS b,
       (SELECT array_agg(d.descendant_id ORDER BY d.descendant_id) AS ids
        FROM org_unit_closure d JOIN org_unit h ON h.id = d.ancestor_id
        WHERE h.code = 'CL1-HQ') AS c1,
       (SELECT array_agg(id ORDER BY id) AS ids FROM org_unit
        WHERE kind IN ('head_unit', 'client_branch') AND code NOT LIKE 'CL1-%') AS c
) AS s
JOIN bench_doctor d ON d.branch_id = s.branch AND d.n = s.g % :per
ORDER BY s.g
"""
LINES = """
INSERT INTO vch_line (voucher_id, service_id, quantity, price, discount, amount, payer_kind,
                      state, service_date, branch_id)
SELECT v.id, s.ids[1 + (v.id * 13 + k * 101) % cardinality(s.ids)], 1, 500 + v.id % 900, 0,
       500 + v.id % 900, 'patient',
       CASE WHEN (v.id + k) % 20 = 0 THEN 'cancelled'
            WHEN (v.id + k) % 20 < 6 THEN 'rendered' ELSE 'paid' END,
       v.service_date, v.branch_id
FROM vch_voucher v
CROSS JOIN LATERAL generate_series(1, 2 + v.id % 2) AS k,
     (SELECT array_agg(id ORDER BY id) AS ids FROM price_service) AS s
WHERE v.id > :after
ORDER BY v.id, k
"""
# What the voucher service keeps (services.vouchers.totals): the total of the lines
# not cancelled, the count of all of them.
TOTALS = """
UPDATE vch_voucher v SET total = t.total, line_count = t.n
FROM (SELECT voucher_id, coalesce(sum(amount) FILTER (WHERE state <> 'cancelled'), 0) AS total,
             count(*) AS n FROM vch_line
      WHERE voucher_id > :after GROUP BY voucher_id) t
WHERE v.id = t.voucher_id
"""


def database_name(lines: int) -> str:
    """Return the name of the database holding `lines` generated lines."""
    return "uchet_perf" if lines == 1_000_000 else f"uchet_perf_{_size(lines)}"


def _size(lines: int) -> str:
    if lines % 1_000_000 == 0:
        return f"{lines // 1_000_000}m"
    return f"{lines // 1000}k" if lines % 1000 == 0 else str(lines)


def load_average() -> str:
    """Return the 1/5/15-minute load averages and the core count, for the figures."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _admin_engine():
    url = make_url(PG_SERVER).set(drivername="postgresql+psycopg")
    return url, create_engine(url, isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 3})


def _meta(url: str) -> tuple[int, str] | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT lines, generator FROM bench_meta")).first()
            return (row[0], row[1]) if row else None
    except Exception:
        return None
    finally:
        engine.dispose()


def make_app(url: str):
    """Return a Uchet app on `url` with its schema at the newest migration (no
    app context is left pushed: each request makes its own)."""
    import logging

    from flask_migrate import upgrade

    from app import create_app

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-0000",
    })
    # UCHET_BENCH_NO_MIGRATE=1: measure an older checkout (the figures "before") on
    # the data set a newer one built.
    if not os.environ.get("UCHET_BENCH_NO_MIGRATE"):
        with app.app_context():
            with _quiet_stderr():
                upgrade()
            logging.getLogger("alembic").setLevel(logging.WARNING)
    return app


def ensure(lines: int, *, rebuild: bool = False) -> str | None:
    """Return the URL of a database holding the demo data and about `lines` lines,
    building it when missing or different (None when PostgreSQL is unreachable)."""
    server, admin = _admin_engine()
    name = database_name(lines)
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name})
            if exists and not rebuild and _meta(url) == (lines, GENERATOR):
                make_app(url)  # migrate to head (a new rollup table, say)
                return url
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"postgres: skipped, server not reachable ({str(exc).splitlines()[0]})")
        return None
    finally:
        admin.dispose()
    _build(url, lines)
    return url


def _build(url: str, lines: int) -> None:
    from app.extensions import db
    from demo.loader import load_demo
    from security.sync import sync_all

    print(f"building {database_name(lines)}: {lines:,} lines ({load_average()})", flush=True)
    started = time.perf_counter()
    app = make_app(url)
    with app.app_context():
        session = db.session
        sync_all(session, app.appbuilder)
        session.commit()
        load_demo(session)
        session.commit()
        vouchers = int(lines / 2.5)
        after = session.scalar(text("SELECT coalesce(max(id), 0) FROM vch_voucher"))
        p0 = session.scalar(text("SELECT coalesce(max(id), 0) + 1 FROM pat_patient"))
        steps = [
            (PATIENTS, {"n": max(lines // 20, 1000)}),
            (DOCTORS, {"per": DOCTORS_PER_BRANCH}),
            (DOCTOR_SLOTS, {}),
            (VOUCHERS, {"n": vouchers, "days": DAYS, "p0": p0, "np": max(lines // 20, 1000),
                        "per": DOCTORS_PER_BRANCH}),
            (LINES, {"after": after}),
            (TOTALS, {"after": after}),
            ("DROP TABLE bench_doctor", {}),
            ("CREATE TABLE bench_meta (lines bigint, generator text)", {}),
            ("INSERT INTO bench_meta VALUES (:lines, :gen)", {"lines": lines, "gen": GENERATOR}),
        ]
        for sql, params in steps:
            step = time.perf_counter()
            session.execute(text(sql), params)
            session.commit()
            print(f"  {' '.join(sql.split())[:60]}… {time.perf_counter() - step:.1f} s",
                  flush=True)
        _rebuild_rollups(session)
        engine = db.engine
        # What autovacuum does after a bulk load: statistics and the visibility map
        # (without it PostgreSQL cannot answer from an index alone).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        total = session.scalar(text("SELECT count(*) FROM vch_line"))
        count = session.scalar(text("SELECT count(*) FROM vch_voucher"))
        session.remove()
    print(f"built: {total:,} lines, {count:,} vouchers in "
          f"{time.perf_counter() - started:.0f} s ({load_average()})", flush=True)


def _rebuild_rollups(session) -> None:
    """Rebuild the statistics rollups when the schema has them."""
    with contextlib.suppress(ImportError):
        from services.rollups import rebuild

        step = time.perf_counter()
        rebuild(session)
        session.commit()
        print(f"  rollups rebuilt… {time.perf_counter() - step:.1f} s", flush=True)


@contextlib.contextmanager
def request_app(lines: int) -> Iterator:
    """Yield an app on the data set of `lines` lines (None without PostgreSQL)."""
    url = ensure(lines)
    if url is None:
        yield None
        return
    app = make_app(url)
    try:
        yield app
    finally:
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    url = ensure(args.lines, rebuild=args.rebuild)
    if url:
        print(f"ready: {make_url(url).database}")


if __name__ == "__main__":
    main()
