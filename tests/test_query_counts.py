"""Rights are resolved with at most 2 SQL queries per request, however many
permission checks a page makes, and a restricted user costs no more queries than
an administrator (stock FAB runs one query per check: ~8 on a list page)."""

from __future__ import annotations

import pytest

from tests.support import unit

# Our two resolver queries, and any per-check FAB query, read these tables.
SECURITY_TABLES = ("ab_permission_view_role", "role_right")


def _security(statements):
    return [s for s in statements if any(t in s for t in SECURITY_TABLES)]


def _measure(client, count_queries, url):
    client.get(url)  # warm caches that are per process, not per request
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return statements


@pytest.mark.parametrize("page", ["list", "show"])
def test_security_queries_per_request(session, login, count_queries, page):
    url = "/unitview/list/" if page == "list" else f"/unitview/show/{unit(session, 'MSK-TVR').id}"
    counts = {}
    for username in ("admin", "branch_head"):
        statements = _measure(login(username), count_queries, url)
        security = _security(statements)
        assert len(security) <= 2, f"{username}: {len(security)} security queries:\n" + \
            "\n---\n".join(security)
        counts[username] = len(statements)
    assert counts["branch_head"] <= counts["admin"], counts


def test_query_count_does_not_grow_with_permission_checks(session, login, count_queries):
    """The user list renders one row per user, each with permission-dependent
    buttons; the number of security queries stays the same on a longer page."""
    client = login("admin")
    short = _security(_measure(client, count_queries, "/users/list/?psize_UserView=2"))
    long = _security(_measure(client, count_queries, "/users/list/?psize_UserView=25"))
    assert len(short) == len(long) <= 2
