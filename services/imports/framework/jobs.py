"""Imports as background jobs: on Redis with RQ when REDIS_URL is set (any number of
`flask uchet worker` processes, on any machine), in-process otherwise (a thread, or
inline under testing) so that `make run` on SQLite works the same way.

A job's state lives in a store the page polls (`status`): Redis hashes next to the RQ
queue, or a dict in the process without Redis. The uploaded file travels with the job
(in Redis, with a TTL), never through a local disk, so a worker on another machine can
run it. The import itself is one transaction (`engine.run`): a job cancelled, refused,
failing or killed mid-way leaves the database as it was.

Why RQ and not Celery: the application already has Redis for its rate-limit counters,
RQ needs nothing else (no broker choice, no beat, no result backend), its jobs are
plain functions, its worker forks a child per job (a crash or a kill takes the child,
and the worker marks the job failed), and the whole integration is this module.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _

from core.actor import reset_actor, set_actor
from core.errors import Forbidden, UchetError
from services.boundary import in_transaction
from services.imports.framework import engine, registry
from services.imports.framework.spec import Report

QUEUE = "uchet-imports"
TTL = 24 * 3600            # seconds a job's state and file are kept
JOB_TIMEOUT = 3 * 3600     # seconds RQ lets an import run
PREFIX = "uchet:import:"
ACTIVE = ("queued", "running")
_PID = os.getpid()


# --- the state store -----------------------------------------------------------------------


class _MemoryStore:
    """Job states of this process (no Redis): a dict under a lock."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict] = {}
        self.files: dict[str, bytes] = {}
        self.lock = threading.Lock()

    def create(self, job_id: str, state: dict, data: bytes) -> None:
        with self.lock:
            # Forget jobs older than TTL: a long-running server keeps no stale files.
            limit = time.time() - TTL
            for old in [k for k, v in self.jobs.items() if v.get("at", 0) < limit]:
                self.jobs.pop(old, None)
                self.files.pop(old, None)
            self.jobs[job_id] = dict(state)
            self.files[job_id] = data

    def get(self, job_id: str) -> dict | None:
        with self.lock:
            found = self.jobs.get(job_id)
            return dict(found) if found is not None else None

    def update(self, job_id: str, **values: Any) -> None:
        with self.lock:
            if job_id in self.jobs:
                self.jobs[job_id].update(values)

    def data(self, job_id: str) -> bytes | None:
        with self.lock:
            return self.files.get(job_id)

    def forget_data(self, job_id: str) -> None:
        with self.lock:
            self.files.pop(job_id, None)


class _RedisStore:
    """Job states in Redis hashes (`uchet:import:<id>`), the file under `…:<id>:file`."""

    def __init__(self, connection) -> None:
        self.redis = connection

    def create(self, job_id: str, state: dict, data: bytes) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(PREFIX + job_id, mapping={k: json.dumps(v) for k, v in state.items()})
        pipe.expire(PREFIX + job_id, TTL)
        pipe.set(PREFIX + job_id + ":file", data, ex=TTL)
        pipe.execute()

    def get(self, job_id: str) -> dict | None:
        found = self.redis.hgetall(PREFIX + job_id)
        return {k.decode(): json.loads(v) for k, v in found.items()} if found else None

    def update(self, job_id: str, **values: Any) -> None:
        if values:
            self.redis.hset(PREFIX + job_id, mapping={k: json.dumps(v)
                                                      for k, v in values.items()})

    def data(self, job_id: str) -> bytes | None:
        return self.redis.get(PREFIX + job_id + ":file")

    def forget_data(self, job_id: str) -> None:
        self.redis.delete(PREFIX + job_id + ":file")


_memory = _MemoryStore()


def redis_url() -> str | None:
    """Return the Redis URL jobs run on, or None (in-process)."""
    return current_app.config.get("REDIS_URL") or None


def _connection():
    import redis

    return redis.Redis.from_url(redis_url())


def store():
    """Return the job store of the app's configuration."""
    return _RedisStore(_connection()) if redis_url() else _memory


# --- submitting, polling, cancelling --------------------------------------------------------


def submit(code: str, filename: str, data: bytes, user_id: int, *, dry_run: bool,
           options: dict | None = None) -> str:
    """Start a job (preview when `dry_run`) of the import `code` on the file; return its id.

    The caller has checked the right; the job checks it again as the user."""
    job_id = secrets.token_urlsafe(16)
    state = {"owner": user_id, "kind": code, "filename": filename, "dry_run": dry_run,
             "options": options or {}, "state": "queued", "done": 0, "total": 0,
             "message": "", "report": None, "at": time.time()}
    store().create(job_id, state, data)
    if redis_url():
        from rq import Queue

        Queue(QUEUE, connection=_connection()).enqueue(
            perform, job_id, job_id=job_id, job_timeout=JOB_TIMEOUT, result_ttl=TTL,
            failure_ttl=TTL)
        return job_id
    app = current_app._get_current_object()
    if app.config.get("IMPORT_JOBS_INLINE", app.testing):
        # Inline, the job must be the outermost unit of work (it commits or rolls back).
        if in_transaction():
            raise RuntimeError("an inline import job cannot run inside a transaction")
        try:
            perform(job_id)
        except Exception:  # recorded in the job's state; the page shows it
            app.logger.exception("import job %s failed", job_id)
    else:
        threading.Thread(target=_in_thread, args=(app, job_id), daemon=True,
                         name=f"import-{job_id}").start()
    return job_id


def _in_thread(app, job_id: str) -> None:
    """Run the job in an app context of its own (a thread's, or inline under testing)."""
    with app.app_context():
        try:
            perform(job_id)
        except Exception:  # recorded in the job's state by perform; nothing to raise to
            app.logger.exception("import job %s failed", job_id)


def status(job_id: str, user_id: int) -> dict | None:
    """Return the job's state for its owner (None for an unknown or foreign job). A job
    RQ gave up on (its worker killed, a timeout) is reported failed and logged."""
    found = store().get(job_id)
    if found is None or found.get("owner") != user_id:
        return None
    if found["state"] in ACTIVE and redis_url() and _rq_gave_up(job_id):
        message = _("Задание прервано (обработчик остановлен): база данных не изменена")
        store().update(job_id, state="failed", message=message)
        found.update(state="failed", message=message)
        spec = registry.get(found["kind"])
        if spec is not None and not found.get("dry_run"):
            from app.extensions import db

            engine.log_failure(db.session, spec, found["filename"], message, job_id)
    return found


def _rq_gave_up(job_id: str) -> bool:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        job = Job.fetch(job_id, connection=_connection())
    except NoSuchJobError:
        return True
    return job.get_status(refresh=True) in (JobStatus.FAILED, JobStatus.STOPPED,
                                            JobStatus.CANCELED)


def cancel(job_id: str, user_id: int) -> bool:
    """Ask the owner's job to stop; return False for an unknown or foreign job. A queued
    job never starts; a running one stops after its current batch (rolled back)."""
    found = store().get(job_id)
    if found is None or found.get("owner") != user_id:
        return False
    store().update(job_id, cancel=True)
    if found["state"] == "queued" and redis_url():
        from rq.job import Job

        try:
            Job.fetch(job_id, connection=_connection()).cancel()
        except Exception:  # already started or gone: the flag stops it
            return True
        store().update(job_id, state="cancelled", message=_("Отменено"))
    return True


def confirm(job_id: str, user_id: int) -> str | None:
    """Start the import a finished, error-free preview job showed; return the new job's
    id, or None (unknown, foreign, unfinished or refused preview, or file gone)."""
    found = store().get(job_id)
    if found is None or found.get("owner") != user_id or not found.get("dry_run") \
            or found.get("state") != "done":
        return None
    data = store().data(job_id)
    report = report_of(found)
    if data is None or report is None or not report.ok:
        return None
    store().forget_data(job_id)
    return submit(found["kind"], found["filename"], data, user_id, dry_run=False,
                  options=found.get("options"))


def report_of(state: dict) -> Report | None:
    """Return the report a finished job left, or None."""
    return Report.from_json(state["report"]) if state.get("report") else None


# --- running --------------------------------------------------------------------------------


def perform(job_id: str) -> str:
    """Run the job (RQ's entry point and the in-process one); return its final state.

    Needs an app context: a `flask uchet worker` has one; elsewhere the app is made."""
    if has_app_context():
        return _perform(job_id)
    from app import create_app

    with create_app().app_context():
        return _perform(job_id)


def _perform(job_id: str) -> str:
    from app.extensions import db
    from models.user import AppUser
    from security.effective import resolve

    if os.getpid() != _PID:
        # A forked RQ work horse: the pooled connections belong to the parent.
        db.engine.dispose(close=False)
    jobs = store()
    state = jobs.get(job_id)
    data = jobs.data(job_id)
    if state is None or data is None:
        return "gone"
    if state.get("cancel"):
        jobs.update(job_id, state="cancelled", message=_("Отменено"))
        return "cancelled"
    session = db.session
    user = session.get(AppUser, state["owner"])
    spec = registry.get(state["kind"])
    jobs.update(job_id, state="running")

    def progress(done: int, total: int) -> None:
        jobs.update(job_id, done=done, total=total)
        if (jobs.get(job_id) or {}).get("cancel"):
            raise engine.Cancelled

    token = set_actor(user.id if user else None, user.username if user else "system")
    try:
        if user is None or spec is None or not user.active:
            raise Forbidden(_("Импорт вам запрещён"))
        report = engine.run(session, spec, state["filename"], data, resolve(session, user),
                            dry_run=state["dry_run"], progress=progress,
                            options=state.get("options"), job_id=job_id)
        final = {"state": "done", "report": report.as_json(), "done": report.total,
                 "total": report.total}
    except engine.Cancelled:
        final = {"state": "cancelled", "message": _("Отменено: база данных не изменена")}
    except UchetError as exc:
        plan = getattr(exc, "plan", None)
        final = {"state": "refused", "message": str(exc),
                 "report": plan.as_json() if isinstance(plan, Report) else None}
    except Exception:
        jobs.update(job_id, state="failed", message=_(
            "Сбой при загрузке: база данных не изменена"))
        jobs.forget_data(job_id)
        raise
    finally:
        reset_actor(token)
    if not state["dry_run"] or final["state"] != "done":
        jobs.forget_data(job_id)
    jobs.update(job_id, **final)
    return final["state"]
