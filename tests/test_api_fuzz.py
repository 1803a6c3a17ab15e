"""API fuzzing (issue 20): schemathesis generates requests from the OpenAPI
document (`/api/v1/_openapi`) for every operation, as two users (an administrator
and a registrar) — 0 answers ≥ 500 and 0 responses that contradict the document.

Bounded: a few examples per operation (UCHET_FUZZ_EXAMPLES, 3 by default;
derandomised, so every run sends the same requests): on PostgreSQL about 20 s of
requests per user, 75 s for the file with its setup on a 2-core machine. Runs
when UCHET_RUN_FUZZ=1, which `.ci/run` sets for its PostgreSQL pass (where the
database errors it looks for happen); `make test` alone skips it."""

from __future__ import annotations

import os

import pytest

# Opt-in, so the default `make test` stays as fast as it was; CI's PostgreSQL pass
# opts in (.ci/run).
RUN = os.environ.get("UCHET_RUN_FUZZ") == "1"
pytestmark = pytest.mark.skipif(not RUN, reason="fuzzing runs with UCHET_RUN_FUZZ=1")

EXAMPLES = int(os.environ.get("UCHET_FUZZ_EXAMPLES", "3"))


def _token(client, username: str) -> str:
    response = client.post("/api/v1/security/login", json={
        "username": username, "password": "demo", "provider": "db"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]


@pytest.mark.parametrize("username", ["admin", "registrar"])
def test_no_operation_answers_500_or_contradicts_the_document(app, username):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    client = app.test_client()
    headers = {"Authorization": f"Bearer {_token(client, username)}"}
    # The document as the administrator reads it (every operation); each request
    # goes as `username`, who is refused what his rights do not allow.
    spec = client.get("/api/v1/_openapi", headers={
        "Authorization": f"Bearer {_token(client, 'admin')}"}).get_json()
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = app
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100

    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=[not_a_server_error,
                                                         response_schema_conformance])
            except (Exception, BaseExceptionGroup) as exc:  # a group of failures
                found = getattr(exc, "exceptions", [exc])
                failures.extend(f"{case.method} {case.formatted_path}: "
                                f"{type(one).__name__}: {str(one)[:200]}" for one in found)

        run()
    assert failures == [], "\n".join(failures[:40]) + f"\n({len(failures)} in all)"
