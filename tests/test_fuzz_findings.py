"""What the schema fuzzer (tests/test_fuzz.py) found, each pinned by a plain test."""

from __future__ import annotations

import warnings
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from local.docs import BODY_RESPONSES, TOKEN_RESPONSES
from reco.stores.codec import to_dynamo, to_dynamo_document


def test_a_number_below_dynamodbs_smallest_is_stored_as_zero(client: TestClient, auth: Any) -> None:
    """A weight of 5e-261 is within the documented 0..1000: it was a 500 (decimal.Underflow on write)."""
    body = {"recipe": "ease", "params": {}, "event_weights": {"view": {"weight": 4.9e-261, "min_value": -8.8e-216}}}
    answer = client.put("/v1/models/tiny", json=body, headers=auth("acme", "root"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["event_weights"]["view"] == {"weight": 0, "min_value": 0, "use_value": False}
    assert to_dynamo_document({"a": [1e-131, -1e-200, 1e-130, 0.5]}) == {
        "a": [Decimal(0), Decimal(0), Decimal("1e-130"), Decimal("0.5")]
    }
    assert to_dynamo(2.5e-300) == Decimal(0)


@pytest.mark.parametrize(("sent", "stored"), [(True, True), (False, False)])
def test_a_context_takes_true_or_false_for_its_exclusion_as_documented(
    client: TestClient, auth: Any, sent: bool, stored: bool
) -> None:
    document = client.get("/openapi.json").json()
    field = document["components"]["schemas"]["ContextBody"]["properties"]["excluded_viewed_items"]
    assert {"type": "boolean"} in field["anyOf"]
    answer = client.put(
        "/v1/contexts/5", json={"name": "Home", "excluded_viewed_items": sent}, headers=auth("acme", "manager")
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["excluded_viewed_items"]["enabled"] is stored


def test_every_operation_declares_what_answers_before_its_route(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            shared = {**TOKEN_RESPONSES, **(BODY_RESPONSES if "requestBody" in operation else {})}
            missing += [
                f"{method.upper()} {path} {status}" for status in shared if status not in operation["responses"]
            ]
    assert missing == []
    # a route's own description of a status wins
    assert document["paths"]["/v1/models"]["get"]["responses"]["400"] == {"description": "Malformed cursor"}


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("PUT", "/v1/items", 400, "MALFORMED_JSON"),  # was answered, not declared
        ("POST", "/v1/events", 400, "MALFORMED_JSON"),
        ("POST", "/v1/chat", 400, "MALFORMED_JSON"),
        ("GET", "/v1/models?cursor=not-a-cursor", 400, "MALFORMED_CURSOR"),
    ],
)
def test_answers_the_fuzzer_found_undeclared_are_declared(
    client: TestClient, auth: Any, method: str, path: str, status: int, code: str
) -> None:
    answer = client.request(
        method, path, content=b"\x00" if method != "GET" else None, headers={**auth("acme", "root")}
    )
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    document = client.get("/openapi.json").json()
    assert str(status) in document["paths"][path.split("?")[0]][method.lower()]["responses"]


def test_chat_declares_the_authorizers_401(client: TestClient) -> None:
    answer = client.post("/v1/chat", json={"message": "hi"})
    assert answer.status_code == 401
    assert "401" in client.get("/openapi.json").json()["paths"]["/v1/chat"]["post"]["responses"]


def test_property_names_with_a_nul_keep_their_own_columns_in_the_artifact() -> None:
    """A zip entry name ends at a NUL: 'a\\x00x' and 'a\\x00y' were both stored as 'col/a' (a warning, and
    one column read back under another name) after a fuzzed catalog was trained on."""
    from reco.models.artifact import ModelArtifact
    from reco.models.columns import column_key, column_name
    from tests.unit.test_models_recipes import two_clusters

    names = ["a\x00x", "a\x00y", "a", "%00", "b/%2F"]
    properties = {"a0": dict.fromkeys(names, "red"), "a1": dict.fromkeys(names, "blue")}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # zipfile's "Duplicate name" warning fails the test
        blob = ModelArtifact.train("popularity", None, two_clusters(), properties).to_bytes()
    columns = ModelArtifact.from_bytes(blob).item_columns
    assert {column_name(key) for key in columns if "/" not in key} == set(names)
    assert [column_name(column_key(name)) for name in names] == names
