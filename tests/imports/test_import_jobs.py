"""Import jobs: in-process (no REDIS_URL) and on Redis with a real RQ worker
(SimpleWorker, burst) when Redis is reachable. A job cancelled or failing mid-way
leaves the database as it was and is reported (and logged) as such."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from models.imports import ImportLog
from models.pricelist import ServiceComponent
from services.imports.framework import jobs
from services.imports.pricelist_specs import CompositeImport
from tests.contract_rows import count, user_with
from tests.imports.import_rows import csv_bytes, text
from tests.support import REDIS_URL, redis_reachable

HEADER = ["Код сложной услуги", "Код входящей услуги", "Количество"]


@pytest.fixture
def composite(session):
    """A composite service and 30 services that may go into it."""
    from models.pricelist import Service

    head = Service(code="JOB-C", name="Комплекс (задания)", insurance="none", composite=True)
    parts = [Service(code=f"JOB-S{i:02d}", name=f"Часть {i}", insurance="none")
             for i in range(30)]
    session.add_all([head, *parts])
    session.commit()
    return head


def file_of(n: int) -> bytes:
    return csv_bytes(HEADER, *[["JOB-C", f"JOB-S{i:02d}", 1] for i in range(n)])


def start(client, data, code="composite_services"):
    response = client.post(f"/imports/{code}/preview",
                           data={"file": (io.BytesIO(data), "c.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


def components(session, head) -> int:
    return count(session, ServiceComponent, ServiceComponent.composite_id == head.id)


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 5 rows: a 30-row file runs as 6 batches with progress between them."""
    monkeypatch.setattr(CompositeImport, "batch_size", 5)


def test_in_process_job_reports_progress_and_commits(session, login, composite,
                                                     small_batches, monkeypatch):
    client = user_with(session, login, {"import.composite_services": "yes"})
    seen = []
    real = jobs._MemoryStore.update

    def spy(self, job_id, **values):
        if "done" in values and values.get("state") is None:
            seen.append((values["done"], values["total"]))
        return real(self, job_id, **values)

    monkeypatch.setattr(jobs._MemoryStore, "update", spy)
    job = start(client, file_of(30))
    assert seen[:3] == [(5, 31), (10, 31), (15, 31)]  # 31: the CSV's lines, a guess
    confirm = client.post(job + "/confirm")
    page = text(client.get(confirm.headers["Location"]))
    assert "Добавлено 30" in page
    assert components(session, composite) == 30


def test_a_job_failing_mid_way_changes_nothing_and_is_marked_failed(
        session, login, composite, small_batches, monkeypatch):
    client = user_with(session, login, {"import.composite_services": "yes"})
    job = start(client, file_of(30))
    calls = {"n": 0}
    real = CompositeImport.plan_batch

    def dies_on_the_third_batch(self, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("killed")
        return real(self, *args)

    monkeypatch.setattr(CompositeImport, "plan_batch", dies_on_the_third_batch)
    confirm = client.post(job + "/confirm")
    assert "Сбой при загрузке: база данных не изменена" in text(
        client.get(confirm.headers["Location"]))
    assert components(session, composite) == 0  # two batches were flushed, then rolled back
    (log,) = session.scalars(select(ImportLog).where(ImportLog.kind == "composite_services"))
    assert (log.status, log.message, log.inserted) == ("failed", "RuntimeError", 0)
    new_job = _latest_job(client, composite)
    status = client.get(new_job + "/status").get_json()
    assert (status["state"], status["message"]) == (
        "failed", "Сбой при загрузке: база данных не изменена")


def _latest_job(client, _composite) -> str:
    latest = max(jobs._memory.jobs.items(), key=lambda kv: kv[1]["at"])[0]
    return f"/imports/composite_services/job/{latest}"


def test_a_cancelled_job_changes_nothing(session, login, composite, small_batches,
                                         monkeypatch):
    client = user_with(session, login, {"import.composite_services": "yes"})
    job = start(client, file_of(30))
    real = CompositeImport.plan_batch

    def cancel_after_the_first_batch(self, session_, ctx, batch):
        result = real(self, session_, ctx, batch)
        job_id = _latest_job(client, composite).rsplit("/", 1)[1]
        jobs._memory.update(job_id, cancel=True)
        return result

    monkeypatch.setattr(CompositeImport, "plan_batch", cancel_after_the_first_batch)
    confirm = client.post(job + "/confirm")
    page = text(client.get(confirm.headers["Location"]))
    assert "Отменено: база данных не изменена" in page
    assert components(session, composite) == 0
    (log,) = session.scalars(select(ImportLog).where(ImportLog.kind == "composite_services"))
    assert log.status == "cancelled"


@pytest.fixture
def redis_queue(app, monkeypatch):
    """Jobs on Redis (the test DB number of UCHET_TEST_REDIS_URL), emptied before and after."""
    if not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    import redis
    from rq import Queue

    connection = redis.Redis.from_url(REDIS_URL)
    queue = Queue(jobs.QUEUE, connection=connection)
    queue.empty()
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    yield queue
    queue.empty()


def work(app, queue):
    """Run the queued jobs with a real RQ worker in this process (burst), inside the app."""
    from rq import SimpleWorker

    with app.app_context():
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


@pytest.mark.redis
def test_on_redis_a_worker_runs_the_preview_and_the_load(app, session, login, composite,
                                                         redis_queue):
    client = user_with(session, login, {"import.composite_services": "yes"})
    job = start(client, file_of(3))
    assert client.get(job + "/status").get_json()["state"] == "queued"
    assert "В очереди" in text(client.get(job))
    work(app, redis_queue)
    assert "Будет добавлено 3" in text(client.get(job))
    confirm = client.post(job + "/confirm")
    assert components(session, composite) == 0
    work(app, redis_queue)
    assert "Добавлено 3" in text(client.get(confirm.headers["Location"]))
    assert components(session, composite) == 3


@pytest.mark.redis
def test_on_redis_a_job_the_worker_lost_is_failed_and_changes_nothing(
        app, session, login, composite, redis_queue, monkeypatch):
    client = user_with(session, login, {"import.composite_services": "yes"})
    job = start(client, file_of(3))
    work(app, redis_queue)
    confirm = client.post(job + "/confirm").headers["Location"]
    job_id = re.search(r"/job/([^/]+)$", confirm).group(1)
    # The work horse dies mid-way (SIGKILL, OOM): RQ moves the job to the failed
    # registry without our code running again.
    monkeypatch.setattr(CompositeImport, "plan_batch",
                        lambda *a: (_ for _ in ()).throw(SystemExit(9)))
    work(app, redis_queue)
    from rq.job import Job

    assert Job.fetch(job_id, connection=redis_queue.connection).is_failed
    jobs.store().update(job_id, state="running")  # as a killed horse leaves it
    status = client.get(confirm + "/status").get_json()
    assert status["state"] == "failed"
    assert "база данных не изменена" in status["message"]
    assert components(session, composite) == 0


@pytest.mark.redis
def test_on_redis_a_queued_job_can_be_cancelled(app, session, login, composite, redis_queue):
    client = user_with(session, login, {"import.composite_services": "yes"})
    job = start(client, file_of(3))
    client.post(job + "/cancel")
    work(app, redis_queue)
    assert client.get(job + "/status").get_json()["state"] == "cancelled"
