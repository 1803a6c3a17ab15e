"""The benchmarks' data set: the demo data plus millions of voucher lines, built once
in a dedicated PostgreSQL database and reused by every later run.

    .venv/bin/python -m bench.data --lines 1000000          # build (or reuse) uchet_perf
    .venv/bin/python -m bench.data --lines 10000000         # uchet_perf_10m

The data is what a network of clinics produces, generated set-based (one INSERT ...
SELECT generate_series per table, no Python loop):

* patients: one per 20 lines, each attached to a branch;
* doctors: 15 per branch;
* vouchers (2.5 lines each): every day of the last two years, a day's count following
  the weekday (Sunday a fifth of Monday), the season and a slow growth; each day
  spread over the branches (by size: the largest has ten times the smallest), their
  doctors (the first ones busier) and the patients (mostly the branch's own, with a
  skew: a few come every week, most once or twice a year); ids grow with the date,
  as they do when vouchers are typed day after day;
* three in five visits are sent by a corporate client's office, half of those by the
  first client («Добромед»: its head office and three branches), so a client's
  offices have thousands of visits a month;
* lines: 1 to 5 per voucher (2.5 on average), paid (70 %), rendered (25 %) or
  cancelled (5 %); the voucher's total and line count as the voucher service keeps
  them.

The load runs in one transaction with the secondary indexes of the voucher tables
dropped and built again after it, and the foreign keys not checked row by row: 1M
lines in 55 s from the seed on 2 busy cores (generator 2 took 127 s; figures in
docs/performance.md).

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
GENERATOR = "3"
DAYS = 730
DOCTORS_PER_BRANCH = 15
#: Lines per voucher, picked by the voucher id modulo 40: a mean of exactly 2.5, from
#: one line (a consultation) to five (a check-up).
LINE_COUNTS = [1] * 10 + [2] * 11 + [3] * 11 + [4] * 5 + [5] * 3
#: Relative size of the branches: a flagship, a few large ones, small ones.
BRANCH_WEIGHTS = (30, 20, 15, 12, 10, 8, 6, 5, 4, 3)
#: Visits on each weekday (ISO: Monday 1 .. Sunday 7) relative to a Monday.
WEEKDAY_WEIGHTS = {1: 1.15, 2: 1.05, 3: 1.0, 4: 1.0, 5: 0.9, 6: 0.45, 7: 0.2}

PATIENTS = """
INSERT INTO pat_patient (last_name, first_name, middle_name, birth_date, sex, home_branch_id,
                         name_key, possible_duplicate)
SELECT 'Пациентов' || g, 'Пациент', NULL, DATE '1950-01-01' + (g * 37 % 25000),
       CASE WHEN g % 2 = 0 THEN 'f' ELSE 'm' END, b.ids[1 + (g - 1) % cardinality(b.ids)],
       'пациентов' || g || ' пациент', false
FROM generate_series(1, :n) AS g,
     (SELECT array_agg(id ORDER BY id) AS ids FROM org_unit WHERE kind = 'branch') AS b
"""
DOCTORS = """
INSERT INTO staff_employee (last_name, first_name, position, is_doctor, branch_id, active)
SELECT 'Врачев' || u.id || '-' || k, 'Врач', 'Врач', true, u.id, true
FROM org_unit u, generate_series(0, :per - 1) AS k WHERE u.kind = 'branch'
"""
# The vouchers of each day: the day's share of the total follows the weekday (a
# Sunday has a fifth of a Monday's visits), the season (a summer dip, the January
# holidays) and a slow growth over the two years; `lo`..`hi` are the day's voucher
# numbers, so the ids grow with the date, as when vouchers are typed day after day.
DAYS_TABLE = """
CREATE TABLE bench_day AS
WITH d AS (
  SELECT day,
         (CASE extract(isodow FROM day)::int {weekdays} END)
         * (CASE WHEN extract(month FROM day) IN (7, 8) THEN 0.8
                 WHEN extract(month FROM day) = 1 AND extract(day FROM day) <= 8 THEN 0.3
                 ELSE 1 END)
         * (0.85 + 0.3 * i / :days) AS w
  FROM generate_series(0, :days - 1) AS i,
       LATERAL (SELECT current_date - :days + 1 + i AS day) AS t
), c AS (SELECT day, sum(w) OVER (ORDER BY day) AS upto, sum(w) OVER () AS total FROM d)
SELECT day, floor(:n * (upto - w_day) / total)::bigint AS lo, floor(:n * upto / total)::bigint AS hi
FROM (SELECT day, upto, total, upto - lag(upto, 1, 0::numeric) OVER (ORDER BY day) AS w_day
      FROM c) AS x
"""
# One row per voucher number g (0 .. n-1), with its pseudo-random draws (random()
# after setseed: the same data set on every build). A voucher:
# * goes to a branch by the branch weights (an array of 100 branch ids, repeated by
#   weight);
# * its patient: nine in ten are of the branch (patients are numbered round the
#   branches), drawn with a skew: 35 % of the visits go to the first 5 % of the
#   branch's patients (the chronic ones: 70 visits in two years), 45 % to the first
#   30 %, the rest to anyone of the branch (most come once or twice a year); one
#   visit in ten is anyone's;
# * its doctor: one of the branch's 15, the first ones busier;
# * three in five are sent by a corporate client's office, half of those by the first
#   client («Добромед»: its head office and three branches) — its offices have
#   thousands of visits a month;
# * its lines: a count by the id (LINE_COUNTS), prices 500..1399, one line in twenty
#   cancelled, the total of the others kept on the voucher as the voucher service
#   keeps it.
VOUCHERS = """
INSERT INTO vch_voucher (id, service_date, kind, branch_id, patient_id, doctor_id, total,
                         line_count, created_on, version, created_by_id, referring_unit_id,
                         source)
SELECT :after + 1 + s.g, s.day, 'regular', s.branch, s.patient,
       d.ids[(s.bi - 1) * :per + 1 + s.doc], t.total, t.n,
       s.day + (480 + (s.g * 7) % 720) * interval '1 minute', 1, NULL, s.office, 'manual'
FROM (
  SELECT g, day, bi, b.ids[bi] AS branch,
         :p0 + CASE WHEN r6 < 0.1 THEN floor(r2 * :np)::bigint
                    ELSE floor(r2 * :per_branch * CASE WHEN r1 < 0.35 THEN 0.05
                                                       WHEN r1 < 0.8 THEN 0.3 ELSE 1 END
                              )::bigint * :nb + bi - 1 END AS patient,
         floor(pow(r3, 1.5) * :per)::int AS doc,
         CASE WHEN r4 < 0.3 THEN c1.ids[1 + floor(r5 * cardinality(c1.ids))::int]
              WHEN r4 < 0.6 THEN c.ids[1 + floor(r5 * cardinality(c.ids))::int] END AS office
  FROM (
    SELECT g, day.day, w.pick[1 + floor(random() * 100)::int] AS bi, random() AS r1,
           random() AS r2, random() AS r3, random() AS r4, random() AS r5, random() AS r6
    FROM bench_day AS day, generate_series(day.lo, day.hi - 1) AS g,
         (SELECT CAST(:pick AS int[]) AS pick) AS w
  ) AS x,
  (SELECT array_agg(id ORDER BY id) AS ids FROM org_unit WHERE kind = 'branch') AS b,
  (SELECT array_agg(d.descendant_id ORDER BY d.descendant_id) AS ids
   FROM org_unit_closure d JOIN org_unit h ON h.id = d.ancestor_id
   WHERE h.code = 'CL1-HQ') AS c1,
  (SELECT array_agg(id ORDER BY id) AS ids FROM org_unit
   WHERE kind IN ('head_unit', 'client_branch') AND code NOT LIKE 'CL1-%') AS c
) AS s,
(SELECT array_agg(e.id ORDER BY e.branch_id, e.id) AS ids FROM staff_employee e
 WHERE e.last_name LIKE 'Врачев%') AS d,
LATERAL (SELECT count(*) AS n,
                coalesce(sum(500 + (s.g * 7 + k * 131) % 900)
                         FILTER (WHERE (s.g + k) % 20 <> 0), 0) AS total
         FROM generate_series(1, (CAST(:counts AS int[]))[1 + (:after + 1 + s.g) % 40]) AS k) AS t
ORDER BY s.g
"""
LINES = """
INSERT INTO vch_line (voucher_id, service_id, quantity, price, discount, amount, payer_kind,
                      state, service_date, branch_id)
SELECT v.id, s.ids[1 + (v.id * 13 + k * 101) % cardinality(s.ids)], 1, p.price, 0, p.price,
       'patient',
       CASE WHEN (g + k) % 20 = 0 THEN 'cancelled'
            WHEN (g + k) % 20 < 6 THEN 'rendered' ELSE 'paid' END,
       v.service_date, v.branch_id
FROM vch_voucher v
CROSS JOIN LATERAL (SELECT v.id - :after - 1 AS g) AS n
CROSS JOIN LATERAL generate_series(1, (CAST(:counts AS int[]))[1 + v.id % 40]) AS k
CROSS JOIN LATERAL (SELECT 500 + (g * 7 + k * 131) % 900 AS price) AS p,
     (SELECT array_agg(id ORDER BY id) AS ids FROM price_service) AS s
WHERE v.id > :after
ORDER BY v.id, k
"""
# The secondary indexes of the two big tables are dropped for the load and built
# again after it (one sorted pass each instead of a million random inserts), and the
# foreign keys are not checked row by row (session_replication_role, superuser only):
# the generator draws every id from the tables it references.
BULK_TABLES = ("vch_voucher", "vch_line")


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


#: The database every data set is copied from: the schema, the rights and the demo
#: data (a minute to build), kept while the migrations and the demo are unchanged.
SEED = "uchet_perf_seed"


def _seed_key() -> str:
    """Return a digest of what the seed database is built from."""
    import hashlib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha1(GENERATOR.encode())
    for pattern in ("migrations/versions/*.py", "demo/*.py", "security/catalogue.py"):
        for path in sorted(root.glob(pattern)):
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure(lines: int, *, rebuild: bool = False) -> str | None:
    """Return the URL of a database holding the demo data and about `lines` lines,
    building it when missing or different (None when PostgreSQL is unreachable)."""
    server, admin = _admin_engine()
    name = database_name(lines)
    url = server.set(database=name).render_as_string(hide_password=False)
    seed_url = server.set(database=SEED).render_as_string(hide_password=False)
    try:
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name})
            if exists and not rebuild and _meta(url) == (lines, GENERATOR):
                make_app(url)  # migrate to head (a new rollup table, say)
                return url
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            key = _seed_key()
            if _seed(seed_url) != key:
                print(f"building {SEED}: schema, rights, demo data ({load_average()})")
                conn.execute(text(f'DROP DATABASE IF EXISTS "{SEED}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{SEED}"'))
                _build_seed(seed_url, key)
            started = time.perf_counter()
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{SEED}"'))
            print(f"  copied from {SEED}… {time.perf_counter() - started:.1f} s")
    except Exception as exc:
        print(f"postgres: skipped, server not reachable ({str(exc).splitlines()[0]})")
        return None
    finally:
        admin.dispose()
    _build(url, lines)
    return url


def _seed(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT key FROM bench_seed"))
    except Exception:
        return None
    finally:
        engine.dispose()


def _build_seed(url: str, key: str) -> None:
    from app.extensions import db
    from demo.loader import load_demo
    from security.sync import sync_all

    started = time.perf_counter()
    app = make_app(url)
    with app.app_context():
        session = db.session
        sync_all(session, app.appbuilder)
        session.commit()
        load_demo(session)
        session.execute(text("CREATE TABLE bench_seed (key text)"))
        session.execute(text("INSERT INTO bench_seed VALUES (:k)"), {"k": key})
        session.commit()
        session.remove()
        db.engine.dispose()  # a template must have no connections
    print(f"  {SEED} built… {time.perf_counter() - started:.1f} s", flush=True)


def _build(url: str, lines: int) -> None:
    from app.extensions import db

    print(f"building {database_name(lines)}: {lines:,} lines ({load_average()})", flush=True)
    started = time.perf_counter()
    app = make_app(url)
    print(f"  schema at head… {time.perf_counter() - started:.1f} s", flush=True)
    with app.app_context():
        session = db.session
        session.execute(text("DROP TABLE bench_seed"))
        vouchers = int(lines / 2.5)
        after = session.scalar(text("SELECT coalesce(max(id), 0) FROM vch_voucher"))
        p0 = session.scalar(text("SELECT coalesce(max(id), 0) + 1 FROM pat_patient"))
        patients = max(lines // 20, 1000)
        branches = session.scalar(text("SELECT count(*) FROM org_unit WHERE kind = 'branch'"))
        weekdays = " ".join(f"WHEN {d} THEN {w}" for d, w in WEEKDAY_WEIGHTS.items())
        steps = [
            (PATIENTS, {"n": patients}),
            (DOCTORS, {"per": DOCTORS_PER_BRANCH}),
            ("SELECT setseed(0.42)", {}),
            (DAYS_TABLE.format(weekdays=weekdays), {"n": vouchers, "days": DAYS}),
            (VOUCHERS, {"n": vouchers, "after": after, "p0": p0, "np": patients,
                        "nb": branches, "per_branch": patients // branches,
                        "per": DOCTORS_PER_BRANCH, "pick": _branch_pick(branches),
                        "counts": LINE_COUNTS}),
            ("SELECT setval('vch_voucher_id_seq', (SELECT max(id) FROM vch_voucher))", {}),
            (LINES, {"after": after, "counts": LINE_COUNTS}),
            ("DROP TABLE bench_day", {}),
            ("CREATE TABLE bench_meta (lines bigint, generator text)", {}),
            ("INSERT INTO bench_meta VALUES (:lines, :gen)", {"lines": lines, "gen": GENERATOR}),
        ]
        # One transaction for the load (no WAL flush per step), the indexes dropped
        # in it and built again at its end.
        fast = _bulk_settings(session)
        indexes = _drop_indexes(session)
        for sql, params in steps:
            step = time.perf_counter()
            session.execute(text(sql), params)
            print(f"  {' '.join(sql.split())[:60]}… {time.perf_counter() - step:.1f} s",
                  flush=True)
        step = time.perf_counter()
        for definition in indexes:
            session.execute(text(definition))
        print(f"  {len(indexes)} indexes built again… {time.perf_counter() - step:.1f} s"
              f"{'' if fast else ' (foreign keys checked row by row: not a superuser)'}",
              flush=True)
        if fast:
            session.execute(text("SET session_replication_role = DEFAULT"))
        session.commit()
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


def _branch_pick(branches: int) -> list[int]:
    """Return 100 branch numbers (1-based), each repeated by its weight: a uniform
    draw from them picks a branch by BRANCH_WEIGHTS."""
    weights = [BRANCH_WEIGHTS[i % len(BRANCH_WEIGHTS)] for i in range(branches)]
    total = sum(weights)
    pick: list[int] = []
    for number, weight in enumerate(weights, start=1):
        pick += [number] * max(1, round(100 * weight / total))
    return (pick + [1] * 100)[:100]


def _bulk_settings(session) -> bool:
    """Set the session up for a bulk load; return whether the foreign-key triggers are
    off (only a superuser may turn them off)."""
    # Session-wide (not LOCAL): the rollups' rebuild after the load sorts too.
    session.execute(text("SET maintenance_work_mem = '256MB'"))
    session.execute(text("SET work_mem = '128MB'"))
    session.execute(text("SET synchronous_commit = off"))
    if not session.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")):
        return False
    session.execute(text("SET session_replication_role = replica"))
    return True


def _drop_indexes(session) -> list[str]:
    """Drop the secondary indexes of the big tables; return their definitions."""
    rows = session.execute(text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "JOIN pg_class c ON c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid "
        "WHERE i.tablename = ANY(:t) AND NOT x.indisprimary AND NOT x.indisunique"),
        {"t": list(BULK_TABLES)}).all()
    for name, _definition in rows:
        session.execute(text(f'DROP INDEX "{name}"'))
    return [definition for _name, definition in rows]


def _rebuild_rollups(session) -> None:
    """Rebuild the statistics rollups when the schema has them."""
    with contextlib.suppress(ImportError):
        from services.rollups import rebuild

        step = time.perf_counter()
        rebuild(session)
        session.commit()
        print(f"  rollups rebuilt… {time.perf_counter() - step:.1f} s", flush=True)


def database_url(name: str) -> str:
    """Return the URL of the database `name` on the bench server (as it is: a copy of
    a data set, say, which `ensure` would not recognise)."""
    server, admin = _admin_engine()
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


@contextlib.contextmanager
def request_app(lines: int, database: str | None = None) -> Iterator:
    """Yield an app on the data set of `lines` lines (None without PostgreSQL), or on
    the database named `database` as it is (migrated to head, never rebuilt)."""
    url = database_url(database) if database else ensure(lines)
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
