"""A context's scenario is a reference: it cannot be deleted while the context names it, and a context
whose scenario is missing anyway lists without it, with a warning, instead of answering 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.lists.store import load_store, store_items

Auth = Callable[..., dict[str, str]]
TENANT = "context-scenarios"
ITEMS = {item["id"]: item["properties"] for item in store_items()}
SALE = {"scenario_type": "case", "case": {"filters": [{"property_name": "tags", "op": "eq", "value": "sale"}]}}


def scenario_url(name: str, reco_type: str = "profile_to_items") -> str:
    return f"/scenarios/{reco_type}/{name}/"


def put_context(client: TestClient, headers: dict[str, str], context_id: str, body: Any) -> Any:
    response = client.put(f"/v1/contexts/{context_id}", json=body, headers=headers)
    assert response.status_code == 200, response.json()
    return response.json()


def in_use(response: Any, *users: str) -> None:
    body = response.json()
    assert response.status_code == 400, body
    assert body["error_data"]["name"] == "SCENARIO_IN_USE"
    assert body["error_data"]["used_by"] == list(users)
    for user in users:
        assert user in body["message"], body["message"]


def test_a_scenario_a_context_names_cannot_be_deleted(client: TestClient, auth: Auth) -> None:
    headers = auth(TENANT, "manager")
    for reco_type in ("profile_to_items", "session_to_items", "item_to_items"):
        assert client.put(scenario_url("sale", reco_type), json=SALE, headers=headers).status_code == 200
    put_context(client, headers, "7", {"name": "Sale", "scenario": "sale"})
    put_context(client, headers, "8", {"name": "Similar on sale", "entity_type": "Item", "scenario": "sale"})
    put_context(client, headers, "9", {"name": "Plain"})
    in_use(client.delete(scenario_url("sale"), headers=headers), "context 7")
    # A User context's lists run session_to_items for a visitor without a user id: that one is in use too.
    in_use(client.delete(scenario_url("sale", "session_to_items"), headers=headers), "context 7")
    in_use(client.delete(scenario_url("sale", "item_to_items"), headers=headers), "context 8")
    # Another scenario referring to it is named beside the context.
    alias = {"scenario_type": "alias", "alias": {"scenario_name": "sale"}}
    assert client.put(scenario_url("promo"), json=alias, headers=headers).status_code == 200
    in_use(client.delete(scenario_url("sale"), headers=headers), "'promo' (profile_to_items)", "context 7")
    assert client.get(scenario_url("sale"), headers=headers).status_code == 200
    # Once nothing names it, it can go.
    assert client.delete(scenario_url("promo"), headers=headers).status_code == 204
    put_context(client, headers, "7", {"name": "Sale", "scenario": None})
    assert client.delete(scenario_url("sale"), headers=headers).status_code == 204
    assert client.delete(scenario_url("sale", "session_to_items"), headers=headers).status_code == 204
    assert client.delete("/v1/contexts/8", headers=headers).status_code == 204
    assert client.delete(scenario_url("sale", "item_to_items"), headers=headers).status_code == 204


def test_a_context_whose_scenario_is_missing_lists_without_it(client: TestClient, auth: Auth) -> None:
    load_store(TENANT)
    headers = auth(TENANT, "manager")
    written = put_context(client, headers, "3", {"name": "Sale", "scenario": "sale"})
    assert written["warnings"] == [
        "scenario 'sale' (profile_to_items) does not exist yet: lists of this context run without it "
        "(with a warning) until it is created"
    ]
    plain = client.get("/v1/recommendations", params={"user_id": "usr_1", "limit": 30}, headers=headers).json()
    params: dict[str, str | int] = {"user_id": "usr_1", "context_id": "3", "limit": 30}
    response = client.get("/v1/recommendations", params=params, headers=headers)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["explanation"]["warnings"] == [
        "scenario 'sale' of context 3 skipped: scenario 'sale' (profile_to_items) not found; "
        "requests run without it until it exists"
    ]
    assert [e["item_id"] for e in body["data"]] == [e["item_id"] for e in plain["data"]]
    # A scenario that leads to a missing one is skipped the same way; a complete one applies.
    gone = {"scenario_type": "alias", "alias": {"scenario_name": "gone"}}
    assert client.put(scenario_url("sale"), json=gone, headers=headers).status_code == 200
    skipped = client.get("/v1/recommendations", params=params, headers=headers).json()
    assert "scenario 'gone' (profile_to_items) not found, reached through sale" in skipped["explanation"]["warnings"][0]
    assert client.put(scenario_url("gone"), json=SALE, headers=headers).status_code == 200
    applied = client.get("/v1/recommendations", params=params, headers=headers).json()
    assert applied["explanation"]["warnings"] == []
    assert applied["data"] and all("sale" in ITEMS[e["item_id"]]["tags"] for e in applied["data"])
