"""Login throttling per account and per address (issue 20, item 8): eleven
colleagues signing in from one clinic address are not locked out; an account
under attack is, whatever else happens from its address; the refusal says in
Russian when to try again. Only failures count."""

from __future__ import annotations

import os
import uuid

import pytest

from demo.loader import USERS
from tests.support import REDIS_URL, redis_reachable


def _worker(database_url, **overrides):
    from app import create_app

    # The production limits (config.py), not ones made up for the test.
    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                       "RATELIMIT_STORAGE_URI": "memory://", "WTF_CSRF_ENABLED": False,
                       **overrides})


def _sign_in(worker, username, password="demo"):
    return worker.test_client().post("/login/", data={"username": username,
                                                      "password": password})


def _failures(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


@pytest.mark.no_db_isolation
def test_eleven_colleagues_from_one_address_all_sign_in(database_url):
    worker = _worker(database_url)
    names = [row[0] for row in USERS]
    assert len(names) == 11
    for name in names:
        response = _sign_in(worker, name)
        assert response.status_code == 302, (name, response.status_code)
        assert not _failures(response), name


@pytest.mark.no_db_isolation
def test_an_account_under_attack_is_slowed_and_the_office_is_not(database_url):
    worker = _worker(database_url)
    target = f"victim-{uuid.uuid4().hex[:6]}"
    for _ in range(5):
        assert _failures(_sign_in(worker, target, "guess"))
    refused = _sign_in(worker, target, "guess")
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Повторите через" in page and "мин" in page
    assert int(refused.headers["Retry-After"]) > 0
    # The login name is what counts, whatever its case or the door (form or API).
    assert _sign_in(worker, target.upper(), "guess").status_code == 429
    api = worker.test_client().post("/api/v1/security/login", json={
        "username": target, "password": "guess", "provider": "db"})
    assert api.status_code == 429
    # Colleagues at the same address sign in as usual, and fail as usual.
    assert not _failures(_sign_in(worker, "registrar"))
    assert _failures(_sign_in(worker, "doctor", "typo"))


@pytest.mark.no_db_isolation
def test_an_address_that_fails_everywhere_is_stopped(database_url):
    worker = _worker(database_url, AUTH_RATE_LIMIT="8 per minute")
    codes = [_sign_in(worker, f"user-{i}-{uuid.uuid4().hex[:4]}", "x").status_code
             for i in range(9)]
    assert codes[:8] == [302] * 8 and codes[8] == 429, codes


@pytest.mark.redis
@pytest.mark.no_db_isolation
def test_the_account_counter_lives_in_redis(database_url):
    if not redis_reachable():
        if os.environ.get("UCHET_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is required (UCHET_REQUIRE_SERVICES=1) at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    import redis

    prefix = f"uchet-test-{uuid.uuid4().hex[:8]}"
    shared = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    first, second = _worker(database_url, **shared), _worker(database_url, **shared)
    target = f"victim-{uuid.uuid4().hex[:6]}"
    try:
        for worker in (first, second, first, second, first):
            assert _failures(_sign_in(worker, target, "guess"))
        assert _sign_in(second, target, "guess").status_code == 429
        assert redis.Redis.from_url(REDIS_URL).keys(f"*{prefix}*account*")
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.keys(f"*{prefix}*"):
            client.delete(key)
