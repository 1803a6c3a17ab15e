"""How the request benchmarks measure: each request a fresh one (the test client
with no app context pushed, so `g` and the rights are resolved as in production),
the page and its hand-written SQL baseline timed in the same round, alternately
first, and the statements each request ran recorded as it ran."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session

#: A statement reading one of these is the rights resolver's.
SECURITY_TABLES = ("ab_permission_view_role", "role_right")


class Recorder:
    """Collects the statements a request runs and the time the database spent."""

    def __init__(self, engine):
        self.engine, self.statements, self.db_ms, self._start = engine, [], 0.0, 0.0
        self.timings: list[tuple[float, str]] = []
        #: Time spent in the sessions' COMMITs (a write's WAL flush): database time
        #: that no statement's timing holds.
        self.commit_ms, self._commit_start = 0.0, None

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        event.listen(self.engine, "commit", self._commit_begins)
        event.listen(Session, "after_commit", self._commit_ends)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
        event.remove(self.engine, "commit", self._commit_begins)
        event.remove(Session, "after_commit", self._commit_ends)

    def _commit_begins(self, _conn):
        self._commit_start = time.perf_counter()

    def _commit_ends(self, _session):
        if self._commit_start is not None:
            self.commit_ms += (time.perf_counter() - self._commit_start) * 1000
            self._commit_start = None

    def reset(self) -> None:
        """Forget what was recorded so far (the baseline ran first in this round)."""
        self.statements.clear()
        self.timings.clear()
        self.db_ms = self.commit_ms = 0.0

    def _before(self, _conn, _cursor, statement, *_args):
        self.statements.append(statement)
        self._start = time.perf_counter()

    def _after(self, *_args):
        spent = (time.perf_counter() - self._start) * 1000
        self.db_ms += spent
        self.timings.append((spent, self.statements[-1]))

    @property
    def security(self) -> int:
        """Return how many of the statements resolved rights."""
        return sum(any(t in s for t in SECURITY_TABLES) for s in self.statements)


@dataclass
class Pair:
    """One request of the app against its baseline, measured round by round."""

    name: str
    page: Callable[[], object]
    baseline: Callable[[], object]
    page_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    raw_ms: list[float] = field(default_factory=list)
    commit_ms: list[float] = field(default_factory=list)
    statements: int = 0
    security: int = 0
    slowest: list[tuple[float, str]] = field(default_factory=list)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def measure(engine, pairs: list[Pair], rounds: int) -> None:
    """Run every pair `rounds` times, interleaved: in each round each page and its
    baseline, the baseline first in odd rounds (after one warm-up round)."""
    for round_ in range(rounds + 1):
        for pair in pairs:
            with Recorder(engine) as recorder:
                page_first = round_ % 2 == 0
                if not page_first:
                    raw = _timed(pair.baseline)
                recorder.reset()
                page = _timed(pair.page)
                sql, count = recorder.db_ms, len(recorder.statements)
                commit = recorder.commit_ms
                security, timings = recorder.security, list(recorder.timings)
            if page_first:
                raw = _timed(pair.baseline)
            if round_ == 0:
                continue  # warm-up: plans, caches, lazy imports
            pair.page_ms.append(page)
            pair.sql_ms.append(sql)
            pair.raw_ms.append(raw)
            pair.commit_ms.append(commit)
            pair.statements = max(pair.statements, count)
            pair.security = max(pair.security, security)
            pair.slowest = sorted(timings, reverse=True)[:5]


def table(pairs: list[Pair], show_statements: bool = False) -> None:
    """Print the medians and the ratios of the pairs; "commit" is the page's time in
    COMMITs, "Python" the median of page less its statements and commits."""
    print(f"{'request':<24}{'page ms':>9}{'its SQL':>9}{'commit':>8}{'Python':>8}"
          f"{'raw SQL':>9}{'page/raw':>10}{'SQL/raw':>9}{'stmts':>7}{'security':>10}")
    for p in pairs:
        page, sql, raw = (statistics.median(p.page_ms), statistics.median(p.sql_ms),
                          statistics.median(p.raw_ms))
        commit = statistics.median(p.commit_ms) if p.commit_ms else 0.0
        python = statistics.median(
            [t - s - c for t, s, c in zip(p.page_ms, p.sql_ms, p.commit_ms, strict=True)])
        print(f"{p.name:<24}{page:>9.2f}{sql:>9.2f}{commit:>8.2f}{python:>8.2f}{raw:>9.2f}"
              f"{page / raw:>10.2f}{sql / raw:>9.2f}{p.statements:>7}{p.security:>10}")
        if show_statements:
            for spent, statement in p.slowest:
                print(f"    {spent:8.2f} ms  {' '.join(statement.split())[:240]}")
