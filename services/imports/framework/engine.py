"""Running an import: read the file in batches, check and write every row in ONE
transaction (services.boundary), then commit it all, or roll it all back — after a
preview (the same run, rolled back: it shows exactly what the import would do), on any
row error, a cancel, or a failure. Every committed, refused, failed or cancelled run
leaves a row in `import_log`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError

from core.actor import current_actor
from core.errors import Forbidden
from models.imports import ImportLog
from services.boundary import transaction
from services.imports.framework import reader
from services.imports.framework.reader import ImportRefused
from services.imports.framework.spec import ImportSpec, Report

Progress = Callable[[int, int], None]


class Cancelled(Exception):
    """The user cancelled the run: everything it wrote was rolled back."""


class _Preview(Exception):
    """Ends a preview's transaction: rolled back by the boundary like any refusal."""


def batched(rows: Iterable, size: int) -> Iterator[list]:
    """Yield lists of up to `size` items of `rows`."""
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


@contextlib.contextmanager
def _long_lived_frozen() -> Iterator[None]:
    """Keep the collector off the objects that exist before the run (the app, its
    models and metadata: ~400,000) while the run allocates millions of short-lived
    rows: every full collection would walk them all, which cost ~40 % of an import's
    CPU. The objects are handed back to the collector afterwards."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def require(spec: ImportSpec, rights) -> None:
    """Return None when `rights` allow `spec`. Raises Forbidden (Russian)."""
    if not spec.allowed(rights):
        raise Forbidden(_("Импорт «%(name)s» вам запрещён", name=spec.title))


def run(session, spec: ImportSpec, filename: str, data: bytes, rights, *,
        dry_run: bool, progress: Progress | None = None, options: dict | None = None,
        max_bytes: int = reader.MAX_BYTES, max_rows: int = reader.MAX_ROWS,
        job_id: str | None = None) -> Report:
    """Import the file (or, with `dry_run`, find out what importing it would do) and
    return the report. Nothing is written unless every row is valid and `dry_run` is
    False; then everything is, with one `import_log` row, in one transaction.

    Raises Forbidden without the right, ImportRefused for an unreadable file or (not
    for a preview) any row error — `exc.plan` is the report —, Cancelled when
    `progress` raised it; any other failure propagates after the rollback and a
    "failed" log row.
    """
    require(spec, rights)
    report = Report(spec.code, filename)
    expected = reader.estimate_rows(filename, data)
    try:
        with transaction(session):
            ctx = spec.start(session, rights)
            if options:
                ctx.update(options)
            rows = reader.read(filename, data, spec.columns, max_bytes=max_bytes,
                               max_rows=max_rows, nothing=spec.nothing)
            execute = getattr(spec, "execute", None)
            if execute is not None:
                execute(session, ctx, rows, report, dry_run=dry_run)
            else:
                with _long_lived_frozen():
                    for batch in batched(rows, spec.batch_size):
                        for outcome in spec.plan_batch(session, ctx, batch):
                            report.add(outcome)
                        if progress is not None:
                            progress(report.total, max(expected, report.total))
            if report.ok:
                spec.finish(session, ctx, report)
            if dry_run:
                raise _Preview
            if not report.ok:
                raise ImportRefused(_("В файле есть ошибки (строк: %(n)s): ничего не "
                                      "загружено", n=report.error_rows), plan=report)
            session.add(_log(spec, filename, "done", report, job_id=job_id))
    except _Preview:
        return report
    except ImportRefused as exc:
        if not dry_run:
            _log_apart(session, spec, filename, "refused", report, str(exc), job_id)
        raise
    except Cancelled:
        _log_apart(session, spec, filename, "cancelled", report, _("Отменено"), job_id)
        raise
    except DBAPIError:
        # A row added by someone else meanwhile (a unique key, a constraint).
        message = _("Данные изменились во время загрузки: проверьте файл ещё раз")
        _log_apart(session, spec, filename, "refused", report, message, job_id)
        raise ImportRefused(message) from None
    except Exception as exc:
        _log_apart(session, spec, filename, "failed", report, type(exc).__name__, job_id)
        raise
    return report


def _log(spec, filename, status, report, *, message=None, job_id=None) -> ImportLog:
    user_id, username = current_actor()
    return ImportLog(at=dt.datetime.now(dt.UTC), user_id=user_id, username=username,
                     kind=spec.code, filename=(filename or "")[-255:], status=status,
                     rows=report.total, inserted=report.inserted, updated=report.updated,
                     unchanged=report.unchanged, errors=report.error_rows, message=message,
                     job_id=job_id, details=report.extra or None)


def _log_apart(session, spec, filename, status, report, message, job_id) -> None:
    """Write a log row for a run whose work was rolled back, in a transaction of its own:
    the rows it read and the errors, nothing inserted or updated."""
    undone = Report(report.kind, report.filename, total=report.total,
                    error_rows=report.error_rows)
    with transaction(session):
        session.add(_log(spec, filename, status, undone, message=message, job_id=job_id))


def log_failure(session, spec: ImportSpec, filename: str, message: str,
                job_id: str | None) -> None:
    """Log a run that died outside `run` (a killed worker found by the job's status)."""
    _log_apart(session, spec, filename, "failed", Report(spec.code, filename), message, job_id)
