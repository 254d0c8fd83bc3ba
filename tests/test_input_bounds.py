"""Every number a client can send has a declared range, so a field added later cannot take the
service past what its code or the database can hold (a 400-digit integer was a 500 in three places)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        if "$ref" in node:
            found.add(node["$ref"].rsplit("/", 1)[-1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _unbounded_numbers(schema: Any, where: str, found: list[str]) -> None:
    if not isinstance(schema, dict):
        return
    if schema.get("type") in ("integer", "number") and not {"maximum", "exclusiveMaximum"} & set(schema):
        found.append(where)
    for key, value in schema.items():
        if key == "properties":
            for name, child in value.items():
                _unbounded_numbers(child, f"{where}.{name}", found)
        elif key in ("anyOf", "oneOf", "allOf", "items", "additionalProperties"):
            for child in value if isinstance(value, list) else [value]:
                _unbounded_numbers(child, where, found)


def test_every_number_in_requests_declares_a_maximum(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    found: list[str] = []
    pending: set[str] = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            _refs(operation.get("requestBody", {}), pending)
            for parameter in operation.get("parameters", []):
                _unbounded_numbers(parameter.get("schema", {}), f"{method.upper()} {path} ?{parameter['name']}", found)
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            _refs(schemas[name], pending)
            _unbounded_numbers(schemas[name], name, found)
    assert len(seen) > 20  # the walk reached the request models
    assert found == [], f"numbers without a maximum (use reco.schemas.bounds.Number or Field(le=...)): {found}"
