"""Login rate limiting: off by default in FAB and per process unless the counter
lives in Redis. Two app instances (two gunicorn workers) share one Redis counter,
so an attacker cannot multiply his attempts by the number of workers."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.support import REDIS_URL, redis_reachable


@pytest.fixture
def redis_url():
    if not redis_reachable():
        if os.environ.get("UCHET_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is required (UCHET_REQUIRE_SERVICES=1) at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


def _worker(database_url, redis_url, prefix):
    from app import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": prefix,
        "AUTH_RATE_LIMIT": "4 per minute",
        "WTF_CSRF_ENABLED": False,
    })


def _attempt(app):
    return app.test_client().post("/login/", data={"username": "no-such-user",
                                                   "password": "wrong"})


@pytest.mark.no_db_isolation
def test_two_workers_share_the_login_limit_in_redis(database_url, redis_url):
    import redis

    prefix = f"uchet-test-{uuid.uuid4().hex[:8]}"
    first, second = _worker(database_url, redis_url, prefix), _worker(database_url, redis_url,
                                                                       prefix)
    try:
        codes = [_attempt(first).status_code for _ in range(2)]
        codes += [_attempt(second).status_code for _ in range(2)]
        assert 429 not in codes, codes
        refused = _attempt(second)
        assert refused.status_code == 429
        assert "Слишком много попыток" in refused.get_data(as_text=True)
        assert _attempt(first).status_code == 429
        keys = redis.Redis.from_url(redis_url).keys(f"*{prefix}*")
        assert keys, "the counter is not stored in Redis"
    finally:
        client = redis.Redis.from_url(redis_url)
        for key in client.keys(f"*{prefix}*"):
            client.delete(key)

