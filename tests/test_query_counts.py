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


@pytest.fixture
def more_contracts(session):
    """Thirty extra contracts, every kind of payer among the first rows of each page."""
    import datetime as dt

    from models import Contract, Individual, Insurer, Organisation

    branch, day = unit(session, "MSK-TVR"), dt.date(2030, 1, 1)
    kinds = ["dms", "organisation", "deposit"]
    for i in range(30):
        # A payer of its own per contract: a per-row load would show as 30 queries.
        payer = [Insurer(code=f"QC-INS-{i}", name=f"Страховщик {i}", unit=branch),
                 Organisation(code=f"QC-ORG-{i}", name=f"Организация {i}", unit=branch),
                 Individual(last_name=f"Плательщиков{i}", first_name="Тест", unit=branch)][i % 3]
        session.add(Contract(
            number=f"QC-{i}", signed_on=day, kind=kinds[i % 3], branch=branch,
            payment_scheme="prepaid" if i % 3 == 2 else "postpaid",
            amount=100 if i % 3 == 2 else None, valid_from=day,
            **{type(payer).__name__.lower(): payer}))
    session.commit()


@pytest.mark.parametrize("name", ["ContractView", "AttachmentView", "PatientView",
                                  "ProgrammeView", "VoucherView", "VoucherLineView"])
def test_list_pages_do_not_query_per_row(session, login, count_queries, more_contracts, name):
    """A list of 6 rows and one of 25 run the same number of queries: related names
    (payer, programme, contract, branch) are loaded up front, not row by row."""
    client = login("admin")
    url = f"/{name.lower()}/list/"
    short = _measure(client, count_queries, f"{url}?psize_{name}=6")
    long = _measure(client, count_queries, f"{url}?psize_{name}=25")
    assert len(long) == len(short), "\n---\n".join(long)
