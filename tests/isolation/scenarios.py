"""Tenant isolation cases for the Scenarios API and the scenario-driven recommendation routes."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.shop import load_shop

Auth = Callable[..., dict[str, str]]
CASE = {
    "scenario_type": "case",
    "case": {"amt": 3, "filters": [{"property_name": "genre", "op": "eq", "value": "rock"}]},
}
PATH = "/scenarios/profile_to_items/iso-rock/"


def _put(client: TestClient, auth: Auth, tenant: str, path: str = PATH, body: dict | None = None) -> None:
    response = client.put(path, json=body or CASE, headers=auth(tenant, "manager"))
    assert response.status_code == 200, response.text


def put_scenario_isolation(client: TestClient, auth: Auth) -> None:
    """B writing A's scenario name creates B's own; A's stays as it was."""
    _put(client, auth, "tenant-a")
    _put(client, auth, "tenant-b", body={"scenario_type": "case", "case": {"amt": 7}})
    a = client.get(PATH, headers=auth("tenant-a", "backend")).json()
    assert a["scenario"] == CASE
    client.delete(PATH, headers=auth("tenant-b", "manager"))


def get_scenario_isolation(client: TestClient, auth: Auth) -> None:
    _put(client, auth, "tenant-a")
    response = client.get(PATH, headers=auth("tenant-b", "backend"))
    assert response.status_code == 404
    assert response.json()["error_data"]["name"] == "SCENARIO_NOT_FOUND"


def delete_scenario_isolation(client: TestClient, auth: Auth) -> None:
    _put(client, auth, "tenant-a")
    assert client.delete(PATH, headers=auth("tenant-b", "manager")).status_code == 404
    assert client.get(PATH, headers=auth("tenant-a", "backend")).status_code == 200


def list_scenarios_isolation(client: TestClient, auth: Auth) -> None:
    _put(client, auth, "tenant-a")
    listed = client.get("/scenarios/", headers=auth("tenant-b", "backend")).json()
    assert "iso-rock" not in [s["name"] for s in listed["scenarios"]]
    mine = client.get("/scenarios/?amt=1", headers=auth("tenant-a", "backend")).json()
    if mine["next_cursor"]:  # A's cursor is bound to A's list
        replayed = client.get(f"/scenarios/?cursor={mine['next_cursor']}", headers=auth("tenant-b", "backend"))
        assert replayed.status_code == 400


def defaults_isolation(client: TestClient, auth: Auth) -> None:
    """A default set by A is not B's; B cannot set its default to A's scenario nor unset A's."""
    _put(client, auth, "tenant-a")
    path = "/scenarios-default/profile_to_items/"
    assert client.patch(path, json={"name": "iso-rock"}, headers=auth("tenant-a", "manager")).status_code == 204
    assert client.get(path, headers=auth("tenant-b", "backend")).status_code == 404
    assert client.patch(path, json={"name": "iso-rock"}, headers=auth("tenant-b", "manager")).status_code == 404
    assert client.delete(path, headers=auth("tenant-b", "manager")).status_code == 404
    assert client.get(path, headers=auth("tenant-a", "backend")).json() == {"name": "iso-rock"}
    assert client.delete(path, headers=auth("tenant-a", "manager")).status_code == 204


def recommendations_isolation(client: TestClient, auth: Auth) -> None:
    """B cannot use A's scenarios, A's model, nor A's users, items or sessions."""
    load_shop("tenant-a")
    _put(client, auth, "tenant-a")
    as_a = client.get("/recommendation/users/u1/items/?scenario=iso-rock", headers=auth("tenant-a", "frontend"))
    assert as_a.status_code == 200 and len(as_a.json()["items_id"]) == 3
    for method, path, body in (
        ("GET", "/recommendation/users/u1/items/", None),
        ("GET", "/recommendation/items/i0/items/", None),
        ("POST", "/recommendation/sessions/items/", {"interactions": [{"item_id": "i1", "interaction_type": "view"}]}),
        ("POST", "/recommendation/generic/items/", {"scenario": "iso-rock", "user_id": "u1"}),
    ):
        response = client.request(method, path, json=body, headers=auth("tenant-b", "frontend"))
        assert response.status_code in (404, 503), (path, response.text)
    preview = {
        "scenario": "g",
        "user_id": "u1",
        "preview_scenarios_params": [
            {
                "name": "g",
                "reco_type": "generic_input_to_items",
                "scenario": {
                    "scenario_type": "case",
                    "case": {"reco_type": "profile_to_items", "scenario": "iso-rock"},
                },
            },
        ],
    }
    assert client.post("/scenarios/preview/", json=preview, headers=auth("tenant-b", "frontend")).status_code == 404
    a_cursor = as_a.json()["next_cursor"]
    if a_cursor:
        load_shop("tenant-b")
        _put(client, auth, "tenant-b")
        replay = f"/recommendation/users/u1/items/?scenario=iso-rock&cursor={a_cursor}"
        got = client.get(replay, headers=auth("tenant-b", "frontend"))
        assert got.status_code == 400, got.text


SCENARIO_CASES: dict[tuple[str, str], Callable[[TestClient, Auth], None]] = {
    ("PUT", "/scenarios/{reco_type}/{name}/"): put_scenario_isolation,
    ("GET", "/scenarios/{reco_type}/{name}/"): get_scenario_isolation,
    ("DELETE", "/scenarios/{reco_type}/{name}/"): delete_scenario_isolation,
    ("GET", "/scenarios/"): list_scenarios_isolation,
    ("GET", "/scenarios-default/{reco_type}/"): defaults_isolation,
    ("PATCH", "/scenarios-default/{reco_type}/"): defaults_isolation,
    ("DELETE", "/scenarios-default/{reco_type}/"): defaults_isolation,
    ("GET", "/recommendation/items/{item_id}/items/"): recommendations_isolation,
    ("GET", "/recommendation/users/{user_id}/items/"): recommendations_isolation,
    ("POST", "/recommendation/sessions/items/"): recommendations_isolation,
    ("POST", "/recommendation/generic/items/"): recommendations_isolation,
    ("POST", "/scenarios/preview/"): recommendations_isolation,
}
