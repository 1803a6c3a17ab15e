"""Exports as background jobs of the import framework's job machinery
(`services.imports.framework.jobs`: RQ workers on REDIS_URL, in-process without it),
registered there as the runner "export"."""

from __future__ import annotations

from app.replica import reading
from services.boundary import transaction
from services.export.run import Request, export
from services.imports.framework import jobs

RUNNER = "export"


def job_kind(kind: str) -> str:
    """Return the job kind of an export kind (what the screen checks a job against)."""
    return f"export:{kind}"


def submit(req: Request, user_id: int) -> str:
    """Start the export as a job of `user_id`; return the job's id. The job checks the
    right, the branch and the period again as that user."""
    return jobs.submit(job_kind(req.kind), "", b"", user_id, dry_run=False,
                       options=req.as_json(), runner=RUNNER)


def _run(session, state: dict, rights, progress, job_id: str) -> dict:
    """Run one export job as one unit of work; return its final state's values. The
    rows are read on a replica session of the job's own (when UCHET_REPLICA_URL is
    set), closed when the job ends; the log and the file are written on `session`."""
    req = Request.from_json(state["options"])
    with reading() as reads, transaction(session):
        log = export(session, rights, req, progress=progress, job_id=job_id, reads=reads)
        result = {"log_id": log.id, "done": log.lines, "total": log.lines,
                  "repeat": log.repeat_of_id is not None}
    return result


jobs.RUNNERS[RUNNER] = _run
