"""A default never takes its reco type down: one whose flow reaches a missing scenario is refused, and
one that reaches it anyway (stored before the check, or re-pointed since) is skipped with a warning."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.shop import load_shop, shop_items

Auth = Callable[..., dict[str, str]]
P2I, GENERIC = "profile_to_items", "generic_input_to_items"
DEFAULT = f"/scenarios-default/{P2I}/"
GENRE = {item["id"]: item["properties"]["genre"] for item in shop_items()}


def put(client: TestClient, auth: Auth, name: str, body: Any, reco_type: str = P2I) -> list[str]:
    response = client.put(f"/scenarios/{reco_type}/{name}/", json=body, headers=auth())
    assert response.status_code == 200, response.json()
    return list(response.json()["warnings"])


def alias(target: str) -> dict[str, Any]:
    return {"scenario_type": "alias", "alias": {"scenario_name": target}}


def rock_only() -> dict[str, Any]:
    return {"scenario_type": "case", "case": {"filters": [{"property_name": "genre", "op": "eq", "value": "rock"}]}}


def refused(response: Any, *missing: str) -> None:
    body = response.json()
    assert response.status_code == 400, body
    assert body["error_data"]["name"] == "WRONG_DATA_TYPE"
    assert body["error_data"]["missing"] == list(missing)
    for name in missing:
        assert name in body["message"], body["message"]


def test_a_default_whose_flow_reaches_a_missing_scenario_is_refused(client: TestClient, auth: Auth) -> None:
    put(client, auth, "front", alias("nowhere"))
    refused(client.patch(DEFAULT, json={"name": "front"}, headers=auth()), "'nowhere' (profile_to_items)")
    # Every branch counts: a condition whose else-branch is missing fails some requests.
    put(client, auth, "rock", rock_only())
    gate = {"condition_type": "user_function", "if": {"function_name": "n_ratings", "op": "gte", "value": 3}}
    put(client, auth, "gate", {"scenario_type": "condition", "condition": {**gate, "then": "rock", "else": "gone"}})
    refused(client.patch(DEFAULT, json={"name": "gate"}, headers=auth()), "'gone' (profile_to_items)")
    # A generic default that routes to a missing scenario of another reco type.
    routed = {"scenario_type": "case", "case": {"reco_type": P2I, "scenario": "absent"}}
    put(client, auth, "home", routed, reco_type=GENERIC)
    patched = client.patch(f"/scenarios-default/{GENERIC}/", json={"name": "home"}, headers=auth())
    refused(patched, "'absent' (profile_to_items)")
    # Nothing was stored; once the flow is complete, the same default is accepted.
    assert client.get(DEFAULT, headers=auth()).status_code == 404
    put(client, auth, "nowhere", rock_only())
    assert client.patch(DEFAULT, json={"name": "front"}, headers=auth()).status_code == 204
    assert client.get(DEFAULT, headers=auth()).json() == {"name": "front"}


def test_a_default_that_comes_to_reach_a_missing_scenario_is_skipped_with_a_warning(
    client: TestClient, auth: Auth, caplog: pytest.LogCaptureFixture
) -> None:
    load_shop("acme")
    put(client, auth, "rock", rock_only())
    put(client, auth, "front", alias("rock"))
    assert client.patch(DEFAULT, json={"name": "front"}, headers=auth()).status_code == 204
    served = client.get("/recommendation/users/u1/items/", headers=auth()).json()
    assert {GENRE[i] for i in served["items_id"]} == {"rock"} and served["warnings"] == []
    # Re-pointing the default's flow at a scenario that does not exist is accepted, with a warning ...
    warnings = put(client, auth, "front", alias("gone"))
    assert (
        "the default of profile_to_items leads to missing 'gone' (profile_to_items): its requests run without "
        "the default (with a warning) until they exist"
    ) in warnings
    # ... and requests then run without the default instead of failing.
    skipped = (
        "default scenario 'front' of profile_to_items skipped: scenario 'gone' (profile_to_items) not found, "
        "reached through front; requests run without it until it exists"
    )
    caplog.clear()
    response = client.get("/recommendation/users/u1/items/", headers=auth())
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["warnings"] == [skipped]
    assert "default" not in body["evaluated_scenarios"] and len(body["items_id"]) == 10
    assert {GENRE[i] for i in body["items_id"]} != {"rock"}  # the built-in list: u1 likes jazz
    logged = [r for r in caplog.records if r.getMessage() == "saved scenario flow skipped"]
    assert [(r.levelname, getattr(r, "reason", None)) for r in logged] == [("WARNING", skipped)]
    listed = client.get("/v1/recommendations", params={"user_id": "u1"}, headers=auth())
    assert listed.status_code == 200, listed.json()
    assert listed.json()["explanation"]["warnings"] == [skipped]
    # A caller who names the broken flow still gets told it is broken.
    named = client.get("/recommendation/users/u1/items/", params={"scenario": "front"}, headers=auth())
    assert named.status_code == 404 and named.json()["error_data"]["name"] == "SCENARIO_NOT_FOUND"
    # Repaired, the default applies again.
    put(client, auth, "gone", rock_only())
    repaired = client.get("/recommendation/users/u1/items/", headers=auth()).json()
    assert {GENRE[i] for i in repaired["items_id"]} == {"rock"} and repaired["warnings"] == []


def test_a_broken_generic_default_is_skipped_too(client: TestClient, auth: Auth) -> None:
    load_shop("acme")
    put(client, auth, "rock", rock_only())
    put(client, auth, "home", {"scenario_type": "case", "case": {"reco_type": P2I, "scenario": "rock"}}, GENERIC)
    assert client.patch(f"/scenarios-default/{GENERIC}/", json={"name": "home"}, headers=auth()).status_code == 204
    put(client, auth, "home", {"scenario_type": "case", "case": {"reco_type": P2I, "scenario": "later"}}, GENERIC)
    # The generic default routes to a scenario that does not exist: the routed reco type runs without it.
    response = client.post("/recommendation/generic/items/", json={"user_id": "u1"}, headers=auth())
    assert response.status_code == 200, response.json()
    assert response.json()["warnings"] == [
        f"scenario 'later' of the {GENERIC} default skipped: scenario 'later' (profile_to_items) not found; "
        "requests run without it until it exists"
    ]
