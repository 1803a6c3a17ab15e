"""Organisation tree benchmark: the closure table against a recursive CTE.

    .venv/bin/python -m bench.orgtree [--units 5000] [--db sqlite|postgres|both] [--repeat 200]

For each database it builds a fresh schema the way the tests do (create_app +
Alembic upgrade; SQLite in a temporary file, PostgreSQL in a database it
creates and drops), generates a tree of N units through the ORM in a few
flushes (so the session hook of services.admin.orgtree fills org_unit_closure), then
times, in the same run:

* subtree ids of an anchor (the root, a region, a branch, a client):
  services.admin.orgtree.subtree_ids_query versus a recursive CTE over parent_id;
* a list page: 25 units ordered by name plus count(*), filtered by
  Scope(subtree={anchor}).clause(Unit.id) versus the same ORM query filtered
  by the recursive CTE;
* writes: moving a branch with its departments to another region, and
  inserting 100 units, through the ORM with the closure hook, against the same
  ORM flush with the hook removed and against the raw SQL statements alone.

Every closure result is checked against the recursive CTE (and the whole
closure table against one computed from parent_id after the build and after
each kind of write); a mismatch exits with status 1. Timings are reported
(median and p95 of time.perf_counter), never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import math
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import PG_SERVER, _pg_version, migrated_app, postgres_database

# The baseline: descendants of :anchor (itself included) by walking parent_id.
SUBTREE_CTE = (
    "WITH RECURSIVE subtree(id) AS ("
    " SELECT id FROM org_unit WHERE id = :anchor"
    " UNION ALL"
    " SELECT u.id FROM org_unit u JOIN subtree s ON u.parent_id = s.id"
    ") SELECT id FROM subtree"
)

# Every (ancestor, descendant, depth) pair, computed from parent_id only.
ALL_PAIRS_CTE = (
    "WITH RECURSIVE pairs(ancestor_id, descendant_id, depth) AS ("
    " SELECT id, id, 0 FROM org_unit"
    " UNION ALL"
    " SELECT p.ancestor_id, u.id, p.depth + 1"
    " FROM pairs p JOIN org_unit u ON u.parent_id = p.descendant_id"
    ") SELECT ancestor_id, descendant_id, depth FROM pairs"
)

REGIONS = [
    "Московский регион", "Северо-Западный регион", "Приволжский регион", "Уральский регион",
    "Сибирский регион", "Южный регион", "Центральный регион", "Дальневосточный регион",
]
STREETS = [
    "Тверской", "Арбатский", "Пресненский", "Басманный", "Хамовники", "Митино", "Люблино",
    "Сокол", "Строгино", "Профсоюзный", "Невский", "Кировский", "Ленинский", "Советский",
    "Заречный", "Центральный", "Октябрьский", "Садовый", "Южный", "Северный",
]
DEPARTMENTS = [
    "Терапевтическое", "Хирургическое", "Педиатрическое", "Неврологическое",
    "Кардиологическое", "Лабораторное", "Рентгенологическое", "Гинекологическое",
    "Офтальмологическое", "Стоматологическое", "Процедурное", "Диагностическое",
]
CLIENT_WORDS = [
    "Добромед", "Здоровье+", "Медлайн", "Гиппократ", "Авиценна", "Вита", "Семейный доктор",
    "Поликлиника", "Медассист", "Клиника эксперт", "Доктор рядом", "Эскулап",
]


class Mismatch(Exception):
    """The closure table disagrees with the recursive CTE."""


# --- timing ----------------------------------------------------------------


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Keep the cyclic collector out of a timing loop (as timeit does)."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def time_pair(first: Callable[[], Any], second: Callable[[], Any], repeat: int,
              warmup: int = 5) -> tuple[list[float], list[float]]:
    """Run two read operations alternately (the order flips each round); return ms lists."""
    for _ in range(warmup):
        first()
        second()
    out: tuple[list[float], list[float]] = ([], [])
    with _no_gc():
        for i in range(repeat):
            order = (0, 1) if i % 2 == 0 else (1, 0)
            for k in order:
                fn = first if k == 0 else second
                t0 = time.perf_counter()
                fn()
                out[k].append((time.perf_counter() - t0) * 1000)
    return out


@dataclass
class WriteCase:
    """A write: `setup` (untimed) returns what `op` (timed) needs; `teardown` undoes it."""

    setup: Callable[[], Any]
    op: Callable[[Any], Any]
    teardown: Callable[[], Any]


def time_writes(cases: dict[str, WriteCase], repeat: int,
                warmup: int = 3) -> dict[str, list[float]]:
    """Run the cases round-robin (rotating the order); return ms lists by case name."""
    names = list(cases)
    out: dict[str, list[float]] = {name: [] for name in names}
    with _no_gc():
        for i in range(warmup + repeat):
            shift = i % len(names)
            for name in names[shift:] + names[:shift]:
                case = cases[name]
                state = case.setup()
                t0 = time.perf_counter()
                case.op(state)
                elapsed = (time.perf_counter() - t0) * 1000
                case.teardown()
                if i >= warmup:
                    out[name].append(elapsed)
    return out


@dataclass
class Row:
    """One line of the report: an operation timed with the closure and a baseline."""

    operation: str
    db: str
    closure: list[float]
    baseline: list[float]

    def cells(self) -> list[str]:
        cm, bm = statistics.median(self.closure), statistics.median(self.baseline)
        return [self.operation, self.db, f"{cm:.3f}", f"{_p95(self.closure):.3f}",
                f"{bm:.3f}", f"{_p95(self.baseline):.3f}", f"{cm / bm:.2f}"]


def print_table(rows: list[Row]) -> None:
    """Print the report as a Markdown table (it is pasted into docs/architecture.md)."""
    head = ["operation", "db", "closure median ms", "closure p95 ms",
            "baseline median ms", "baseline p95 ms", "ratio closure/baseline"]
    body = [r.cells() for r in rows]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]

    def fmt(line: list[str]) -> str:
        parts = [c.ljust(w) if i < 2 else c.rjust(w)
                 for i, (c, w) in enumerate(zip(line, widths, strict=True))]
        return "| " + " | ".join(parts) + " |"

    print(fmt(head))
    print("|" + "|".join(("-" * (w + 1) + ":") if i >= 2 else "-" * (w + 2)
                         for i, w in enumerate(widths)) + "|")
    for line in body:
        print(fmt(line))


# --- the tree ----------------------------------------------------------------


@dataclass
class Tree:
    """Ids of the generated units, by role."""

    root: int = 0
    regions: list[int] = field(default_factory=list)
    branch_region: dict[int, int] = field(default_factory=dict)
    departments: dict[int, list[int]] = field(default_factory=dict)  # branch -> departments
    clients: dict[int, int] = field(default_factory=dict)  # client -> number of units


def _plan(n: int, rng: random.Random) -> tuple[list[tuple[int, int]], list[int]]:
    """Return (branches as (region index, departments), clients as their client-branch
    counts) adding up to n units: about 60% provider network, 40% clients."""
    provider = max(10, round(n * 0.6))
    weights = [rng.uniform(0.4, 2.0) for _ in REGIONS]
    branches: list[tuple[int, int]] = []
    left = provider - 1 - len(REGIONS)
    while left > 0:
        depts = min(rng.randint(2, 10), left - 1)
        branches.append((rng.choices(range(len(REGIONS)), weights)[0], depts))
        left -= 1 + depts
    clients: list[int] = []
    left = n - provider
    while left >= 2:
        # Most clients have a few offices, some have many.
        offices = min(rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 15, 25]), left - 2)
        clients.append(offices)
        left -= 2 + offices
    if left and clients:
        clients[-1] += left
    return branches, clients


def build_tree(session, n: int, seed: int) -> Tree:
    """Insert n units through the ORM, one flush per level (the closure hook runs on each)."""
    from models.org import Unit, UnitKind

    rng = random.Random(seed)
    branches_plan, clients_plan = _plan(n, rng)
    seq = itertools.count(1)
    tree = Tree()

    def add(kind: UnitKind, parent_id: int | None, name: str) -> Unit:
        number = next(seq)
        unit = Unit(kind=kind.value, parent_id=parent_id, code=f"U{number:07d}",
                    name=f"{name} · {number}", active=True)
        session.add(unit)
        return unit

    root = add(UnitKind.network, None, "Сеть клиник «Здоровье»")
    session.flush()
    tree.root = root.id
    regions = [add(UnitKind.region, root.id, name) for name in REGIONS]
    session.flush()
    tree.regions = [r.id for r in regions]
    branches = [
        (add(UnitKind.branch, regions[r].id, f"Филиал «{rng.choice(STREETS)}»"), depts)
        for r, depts in branches_plan
    ]
    session.flush()
    pending = []
    for branch, depts in branches:
        tree.branch_region[branch.id] = branch.parent_id
        pending.append((branch.id, [
            add(UnitKind.department, branch.id, f"{d} отделение")
            for d in rng.sample(DEPARTMENTS, depts)
        ]))
    session.flush()
    tree.departments = {b: [d.id for d in ds] for b, ds in pending}

    clients = [(add(UnitKind.client, None, f"ООО «{rng.choice(CLIENT_WORDS)}»"), k)
               for k in clients_plan]
    session.flush()
    heads = [(add(UnitKind.head_unit, c.id, "Головной офис"), c, k) for c, k in clients]
    session.flush()
    for head, client, k in heads:
        for _ in range(k):
            add(UnitKind.client_branch, head.id, f"Офис на {rng.choice(STREETS)}")
        tree.clients[client.id] = 2 + k
    session.flush()
    session.commit()
    return tree


def check_closure(session, when: str) -> int:
    """Compare the whole closure table with the pairs computed from parent_id.

    Returns the number of closure rows; raises Mismatch naming the difference.
    """
    from sqlalchemy import select, text

    from models.org import UnitClosure

    stored = set(session.execute(
        select(UnitClosure.ancestor_id, UnitClosure.descendant_id, UnitClosure.depth)
    ).tuples())
    expected = set(session.execute(text(ALL_PAIRS_CTE)).tuples())
    if stored != expected:
        missing, extra = sorted(expected - stored)[:5], sorted(stored - expected)[:5]
        raise Mismatch(f"{when}: closure table differs from parent_id "
                       f"(missing {missing}, extra {extra})")
    return len(stored)


# --- one database --------------------------------------------------------------


def bench_database(url: str, db_label: str, args, problems: list[str]) -> list[Row]:
    """Build the tree on `url`, run every measurement, return the report rows."""
    from sqlalchemy import Integer, column, func, insert, select, text

    from app.extensions import db
    from models.org import Unit, UnitKind
    from security.scope import Scope
    from services.admin import orgtree

    rows: list[Row] = []
    with migrated_app(url):
        session = db.session

        t0 = time.perf_counter()
        tree = build_tree(session, args.units, args.seed)
        build_s = time.perf_counter() - t0
        if db.engine.dialect.name == "postgresql":
            # A production server has statistics (autovacuum); a fresh one not yet.
            session.execute(text("ANALYZE"))
            session.commit()
        # The app's long-lived objects (FAB, catalogue) would make every
        # collection cost ~0.1 s; keep them out of the collector's sight.
        gc.collect()
        gc.freeze()
        units = session.scalar(select(func.count()).select_from(Unit))
        closure_rows = check_closure(session, "after the build")
        print(f"{db_label}: {units} units, {closure_rows} closure rows, "
              f"built through the ORM with the closure hook in {build_s:.1f} s", flush=True)

        def size(anchor: int) -> int:
            return len(session.execute(orgtree.subtree_ids_query([anchor])).all())

        by_size = sorted(tree.regions, key=size)
        region = by_size[len(by_size) // 2]
        branches = sorted(tree.departments, key=lambda b: (len(tree.departments[b]), b))
        branch = branches[len(branches) // 2]
        clients = sorted(tree.clients, key=lambda c: (tree.clients[c], c))
        client = clients[len(clients) // 2]
        anchors = [("root", tree.root), ("region", region), ("branch", branch),
                   ("client", client)]

        # --- reads -----------------------------------------------------------
        def closure_ids(anchor: int) -> list[int]:
            return session.execute(orgtree.subtree_ids_query([anchor])).scalars().all()

        def cte_ids(anchor: int) -> list[int]:
            return session.execute(text(SUBTREE_CTE), {"anchor": anchor}).scalars().all()

        def closure_filter(anchor: int):
            scope = Scope(all=False, exact=frozenset(), subtree=frozenset({anchor}))
            return scope.clause(Unit.id)

        def cte_filter(anchor: int):
            return Unit.id.in_(
                text(SUBTREE_CTE).bindparams(anchor=anchor).columns(column("id", Integer))
            )

        # The same two statements straight through the driver: what the database
        # itself spends, without SQLAlchemy building and caching the statement.
        dbapi = session.connection().connection.dbapi_connection
        mark = "?" if db.engine.dialect.name == "sqlite" else "%s"
        closure_sql = f"SELECT descendant_id FROM org_unit_closure WHERE ancestor_id IN ({mark})"
        cte_sql = SUBTREE_CTE.replace(":anchor", mark)

        def driver_ids(sql: str, anchor: int) -> list[int]:
            cursor = dbapi.cursor()
            cursor.execute(sql, (anchor,))
            ids = [r[0] for r in cursor.fetchall()]
            cursor.close()
            return ids

        def list_page(where) -> tuple[list[str], int]:
            page = session.execute(
                select(Unit).where(where).order_by(Unit.name).limit(25)
            ).scalars().all()
            total = session.execute(select(func.count()).select_from(Unit).where(where))
            return [u.name for u in page], total.scalar_one()

        for label, anchor in anchors:
            a_ids, b_ids = closure_ids(anchor), cte_ids(anchor)
            if sorted(a_ids) != sorted(b_ids):
                problems.append(f"{db_label}: subtree of {label} #{anchor}: closure "
                                f"{len(a_ids)} ids, CTE {len(b_ids)} ids")
            if list_page(closure_filter(anchor)) != list_page(cte_filter(anchor)):
                problems.append(f"{db_label}: list page of {label} #{anchor} differs")
            if sorted(driver_ids(closure_sql, anchor)) != sorted(driver_ids(cte_sql, anchor)):
                problems.append(f"{db_label}: subtree of {label} #{anchor} (driver) differs")
            n = len(b_ids)
            a_t, b_t = time_pair(lambda a=anchor: closure_ids(a),
                                 lambda a=anchor: cte_ids(a), args.repeat)
            rows.append(Row(f"subtree ids: {label} ({n} units)", db_label, a_t, b_t))
            a_t, b_t = time_pair(lambda a=anchor: driver_ids(closure_sql, a),
                                 lambda a=anchor: driver_ids(cte_sql, a), args.repeat)
            rows.append(Row(f"subtree ids, driver only: {label} ({n} units)", db_label,
                            a_t, b_t))
            a_t, b_t = time_pair(lambda a=anchor: list_page(closure_filter(a)),
                                 lambda a=anchor: list_page(cte_filter(a)), args.repeat)
            rows.append(Row(f"list page 25 + count: {label} ({n} units)", db_label, a_t, b_t))
        session.rollback()

        # --- writes ----------------------------------------------------------
        old_region = tree.branch_region[branch]
        new_region = next(r for r in tree.regions if r != old_region)
        moved = 1 + len(tree.departments[branch])
        new_parents = sorted(tree.departments)[:10]

        def hook(on: bool) -> None:
            if on:
                orgtree.install()
            else:
                from sqlalchemy import event
                from sqlalchemy.orm import Session

                event.remove(Session, "after_flush", orgtree._after_flush)

        def undo(reinstall: bool = False) -> Callable[[], None]:
            def _undo() -> None:
                session.rollback()
                if reinstall:
                    hook(True)
            return _undo

        def orm_move(unit) -> None:
            unit.parent_id = new_region
            session.flush()

        def raw_move(_state) -> None:
            session.execute(text("UPDATE org_unit SET parent_id = :p WHERE id = :id"),
                            {"p": new_region, "id": branch})

        def load_branch(hook_on: bool = True):
            def _load():
                hook(hook_on)
                return session.get(Unit, branch)
            return _load

        def new_rows() -> list[dict]:
            return [{"kind": UnitKind.department.value, "parent_id": new_parents[i % 10],
                     "code": f"NEW{i:04d}", "name": f"Новое отделение · {i}", "active": True}
                    for i in range(100)]

        def orm_units(hook_on: bool = True):
            def _make():
                hook(hook_on)
                return [Unit(**values) for values in new_rows()]
            return _make

        def orm_insert(objs) -> None:
            session.add_all(objs)
            session.flush()

        def raw_insert(values) -> None:
            session.execute(insert(Unit.__table__), values)

        # Correctness of the hook on both writes (untimed), then the timings.
        orm_move(load_branch()())
        check_closure(session, "after moving a branch")
        session.rollback()
        orm_insert(orm_units()())
        check_closure(session, "after inserting 100 units")
        session.rollback()

        write_repeat = max(10, args.repeat // 4)
        t = time_writes({
            "hook": WriteCase(load_branch(), orm_move, undo()),
            "nohook": WriteCase(load_branch(False), orm_move, undo(reinstall=True)),
            "raw": WriteCase(lambda: None, raw_move, undo()),
        }, write_repeat)
        what = f"move a branch with its departments ({moved} units)"
        rows.append(Row(f"{what} vs ORM without hook", db_label, t["hook"], t["nohook"]))
        rows.append(Row(f"{what} vs raw UPDATE", db_label, t["hook"], t["raw"]))
        t = time_writes({
            "hook": WriteCase(orm_units(), orm_insert, undo()),
            "nohook": WriteCase(orm_units(False), orm_insert, undo(reinstall=True)),
            "raw": WriteCase(new_rows, raw_insert, undo()),
        }, write_repeat)
        rows.append(Row("insert 100 units vs ORM without hook", db_label, t["hook"], t["nohook"]))
        rows.append(Row("insert 100 units vs raw INSERT", db_label, t["hook"], t["raw"]))

        hook(True)
        check_closure(session, "after the write timings (all rolled back)")
        session.rollback()
        db.session.remove()
        db.engine.dispose()
    gc.unfreeze()
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0, or 1 when the closure table disagrees with the CTE."""
    parser = argparse.ArgumentParser(prog="python -m bench.orgtree", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=5000, help="units in the tree (>= 50)")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=200,
                        help="timed runs per read (writes: a quarter of it, at least 10)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated tree")
    parser.add_argument("--pg-server", default=PG_SERVER,
                        help="PostgreSQL server URL (env UCHET_BENCH_PG_SERVER)")
    args = parser.parse_args(argv)
    if args.units < 50 or args.repeat < 1:
        parser.error("--units must be at least 50 and --repeat at least 1")

    tmp = Path(tempfile.mkdtemp(prefix="uchet-bench-"))
    # Never the development instance folder or its database; no production checks.
    os.environ["UCHET_ENV"] = "testing"
    os.environ["UCHET_INSTANCE_DIR"] = str(tmp)
    started = time.perf_counter()
    print(f"uchet orgtree benchmark: {args.units} units, {args.repeat} runs per read, "
          f"{max(10, args.repeat // 4)} per write; Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs", flush=True)

    rows: list[Row] = []
    problems: list[str] = []
    try:
        if args.db in ("sqlite", "both"):
            print(f"sqlite: SQLite {sqlite3.sqlite_version} (temporary file)", flush=True)
            rows += bench_database(f"sqlite:///{tmp / 'bench.sqlite3'}", "sqlite", args,
                                   problems)
        if args.db in ("postgres", "both"):
            with postgres_database(args.pg_server) as url:
                if url is not None:
                    print(f"postgres: {_pg_version(url)} (fresh database)", flush=True)
                    rows += bench_database(url, "postgres", args, problems)
    except Mismatch as exc:
        problems.append(str(exc))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if rows:
        print()
        print("Reads: baseline = recursive CTE over parent_id; \"subtree ids\" runs through the "
              "session (services.admin.orgtree.subtree_ids_query vs text()), \"driver only\" "
              "the same SQL on the DBAPI cursor.\nWrites: closure = ORM flush with the closure "
              "hook; baseline as named; the journal hook is on in every ORM case.")
        print()
        print_table(rows)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if problems:
        print("\nMISMATCH between the closure table and the recursive CTE:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
