"""The OpenAPI document says what the APIs answer (issue 20): a link to several
rows (an attachment's branches, many-to-many or one-to-many) is answered as a
list, so the document must declare an array there — apispec wrote one row, which
schemathesis found on `GET /api/v1/attachments/{pk}` with more examples than CI
runs. Checked on every API's list answer, as the administrator, over HTTP."""

from __future__ import annotations


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _list_valued_fields(spec: dict, operation: dict, result: dict) -> list[tuple[str, dict]]:
    """Return (field, declared schema) for each list value of the answer `result` row."""
    document = operation["responses"]["200"]["content"]["application/json"]["schema"]
    declared = _resolve(spec, document.get("properties", {}).get("result", {}))
    if declared.get("type") == "array":
        declared = _resolve(spec, declared.get("items", {}))
    return [(key, _resolve(spec, declared.get("properties", {}).get(key, {})))
            for key, value in result.items() if isinstance(value, list)]


def test_every_list_valued_field_is_declared_an_array(login):
    """Each API's list and the card of its first row: a field answered as a list
    is declared an array."""
    admin = login("admin")
    spec = admin.get("/api/v1/_openapi").get_json()
    wrong, lists_seen = [], 0
    for path, operations in spec["paths"].items():
        if not path.endswith("/") or "{" in path or "get" not in operations:
            continue
        answer = admin.get(path)
        if answer.status_code != 200 or not answer.get_json().get("ids"):
            continue
        answers = [(path, operations["get"], row) for row in answer.get_json()["result"]]
        card = spec["paths"].get(path + "{pk}", {}).get("get")
        shown = admin.get(f"{path}{answer.get_json()['ids'][0]}")
        if card is not None and shown.status_code == 200:
            answers.append((path + "{pk}", card, shown.get_json()["result"]))
        for where, operation, row in answers:
            for key, declared in _list_valued_fields(spec, operation, row):
                lists_seen += 1
                if declared.get("type") != "array":
                    wrong.append((where, key))
    assert lists_seen, "no API answered a list-valued field: the test proves nothing"
    assert sorted(set(wrong)) == []


def test_an_attachments_branches_are_declared_a_list(login):
    spec = login("admin").get("/api/v1/_openapi").get_json()
    branches = spec["components"]["schemas"]["AttachmentApi.get"]["properties"]["branches"]
    assert branches["type"] == "array" and "$ref" in branches["items"]
