"""Export jobs on the import framework's machinery: on Redis a real RQ worker runs the
export queued by the screen; a cancelled export keeps nothing; another user's job is
not found."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.exports import ExportLog
from services.imports.framework import jobs
from tests.export.test_export_http import logs, run
from tests.imports.test_import_jobs import redis_queue, work  # noqa: F401 (fixture)


@pytest.mark.redis
def test_on_redis_a_worker_runs_the_export(app, session, login, redis_queue):  # noqa: F811
    client = login("accountant")
    job = run(client, session)
    assert client.get(job + "/status").get_json()["state"] == "queued"
    assert not logs(session)
    work(app, redis_queue)
    page = client.get(job)
    assert 'id="export-done"' in page.text
    [entry] = logs(session)
    assert client.get(f"/export/cash/download/{entry.id}").data.startswith(b"<?xml")


def test_a_cancelled_export_keeps_nothing(session, login, monkeypatch):
    real = jobs._MemoryStore.get

    def cancelled(self, job_id):
        found = real(self, job_id)
        if found is not None and found.get("state") == "running":
            found["cancel"] = True  # the owner pressed «Отменить» as it ran
        return found

    monkeypatch.setattr(jobs._MemoryStore, "get", cancelled)
    client = login("accountant")
    page = client.get(run(client, session))
    assert "Отменено" in page.text and 'id="export-done"' not in page.text
    assert session.scalar(select(ExportLog.id)) is None


def test_another_users_job_is_not_found(session, login):
    job = run(login("accountant"), session)
    other = login("admin")
    assert other.get(job).status_code == 404
    assert other.get(job + "/status").status_code == 404
    assert other.post(job + "/cancel").status_code == 404
