"""Corrections to the OpenAPI document FAB writes for a model API: where FAB's
declared answers differ from what FAB answers, a fuzzer (schemathesis) and every
generated client would fail. Each correction says what FAB really returns."""

from __future__ import annotations

import re

ANY = {}  # a JSON value of any type
INTEGER = {"type": "integer"}


def _schema(operation: dict, status: str) -> dict | None:
    content = operation.get("responses", {}).get(status, {}).get("content", {})
    return content.get("application/json", {}).get("schema")


def _declare_path_parameters(path: str, operation: dict) -> None:
    """Declare each `{name}` of `path` the operation leaves undeclared (FAB
    documents only the parameters a docstring names: the invoice actions'
    `/{pk}/cancel` had none). Every path parameter of Uchet is an `<int:...>`."""
    declared = {p.get("name") for p in operation.get("parameters", [])}
    for name in re.findall(r"{(\w+)}", path):
        if name not in declared:
            operation.setdefault("parameters", []).append(
                {"in": "path", "name": name, "required": True, "schema": INTEGER})


def correct_paths(paths: dict, prefix: str) -> None:
    """Correct, in place, the operations of `paths` under `prefix` (one API)."""
    for path, operations in paths.items():
        if not path.startswith(prefix):
            continue
        for method, operation in operations.items():
            _declare_path_parameters(path, operation)
            props = (_schema(operation, "200" if method != "post" else "201") or {}).get(
                "properties", {})
            if path.endswith("/_info"):
                # Lists of field descriptions, and a dict of column -> filters.
                for key in ("add_columns", "edit_columns"):
                    if key in props:
                        props[key] = {"type": "array", "items": {"type": "object"}}
                if "filters" in props:
                    props["filters"] = {"type": "object"}
            if "ids" in props:
                props["ids"] = {"type": "array", "items": INTEGER}
            if "id" in props:
                props["id"] = INTEGER


def correct_components(components) -> None:
    """A 400 or 422 names the refused fields: its message is a dict, not only a text."""
    for status in ("400", "422"):
        answer = components.responses.get(status)
        schema = (answer or {}).get("content", {}).get("application/json", {}).get("schema", {})
        if "message" in schema.get("properties", {}):
            schema["properties"]["message"] = ANY
    correct_answer_schemas(components.schemas)


def _answer_schema(name: str) -> bool:
    """Return True for a component describing an answer (get, get_list and the
    rows nested in them), not a request body."""
    parts = name.split(".")
    return len(parts) >= 2 and parts[1] in ("get", "get_list")


def _decimal_as_text(prop: dict) -> dict:
    """Decimals are answered as text ("20000.00", never rounded through a float);
    date-times as local time without an offset (not RFC 3339 "date-time")."""
    if prop.get("format") == "date-time":
        return {key: value for key, value in prop.items() if key != "format"}
    variants = prop.get("anyOf")
    if prop.get("type") == "number" or (variants and any(v.get("type") == "number"
                                                         for v in variants)):
        return {"type": "string", "nullable": True}
    return prop


def correct_answer_schemas(schemas: dict) -> None:
    """Correct the components: decimals as text (a body may send them so too, and
    answers always do), nested rows of an answer may be null (a row without the
    optional link)."""
    for name, schema in schemas.items():
        if _answer_schema(name) and name.count(".") >= 2:
            schema["nullable"] = True
        props = schema.get("properties", {})
        for key, prop in props.items():
            props[key] = _decimal_as_text(prop)


def correct_many_links(schemas: dict, names: tuple[str, ...], many: set[str]) -> None:
    """A link to several rows (`many`: many-to-many and one-to-many relations) is
    answered as a list of rows (`"branches": []`); apispec documents FAB's
    `Nested(many=True)` under a named schema as one row. Correct the answer
    schemas `names` (an API's list and show components) in place."""
    for name in names:
        props = schemas.get(name, {}).get("properties", {})
        for key in many & props.keys():
            if props[key].get("type") != "array":
                props[key] = {"type": "array", "items": props[key]}
