"""/v1/models through the gateway: definitions, validation, training to versions, failures."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from reco.stores import model_registry
from reco.stores.services import training_launcher

Auth = Callable[..., dict[str, str]]


def wait_for_training() -> None:
    training_launcher().wait()  # type: ignore[attr-defined]


def post_events(client: TestClient, auth: Auth, tenant: str = "acme") -> None:
    events = [{"event_id": f"e{n}", "user_id": f"u{n % 4}", "item_id": f"i{n % 5}", "type": "view"} for n in range(20)]
    response = client.post("/v1/events", json={"events": events}, headers=auth(tenant, "backend"))
    assert response.json()["accepted"] == 20


def test_define_fills_in_defaults_and_keeps_created_at(client: TestClient, auth: Auth) -> None:
    first = client.put("/v1/models/m1", json={"recipe": "als"}, headers=auth("acme", "manager"))
    assert first.status_code == 200
    body = first.json()
    assert body["status"] == "untrained"
    assert body["params"]["factors"] == 64
    assert body["event_weights"]["purchase"] == 5
    assert body["versions"] == [] and body["current_version"] is None
    second = client.put(
        "/v1/models/m1", json={"recipe": "als", "params": {"factors": 8}}, headers=auth("acme", "manager")
    ).json()
    assert second["params"]["factors"] == 8
    assert second["created_at"] == body["created_at"]


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"recipe": "als", "params": {"factor": 8}}, "factor"),
        ({"recipe": "als", "params": {"factors": "many"}}, "factors"),
        ({"recipe": "deep"}, "recipe"),
        ({"recipe": "als", "event_weights": {"view": -1}}, "between 0 and 1000"),
        ({"recipe": "als", "colour": "red"}, "colour"),
    ],
)
def test_bad_definitions_are_422_naming_the_problem(
    client: TestClient, auth: Auth, definition: dict[str, object], message: str
) -> None:
    response = client.put("/v1/models/m1", json=definition, headers=auth("acme", "manager"))
    assert response.status_code == 422
    assert message in response.text


def test_reserved_and_malformed_model_ids_are_refused(client: TestClient, auth: Auth) -> None:
    reserved = client.put("/v1/models/test_model_item_200", json={"recipe": "als"}, headers=auth("acme", "manager"))
    assert reserved.status_code == 400
    assert "reserved" in reserved.json()["detail"]
    malformed = client.put("/v1/models/bad%20id", json={"recipe": "als"}, headers=auth("acme", "manager"))
    assert malformed.status_code == 422


def test_roles(client: TestClient, auth: Auth) -> None:
    assert client.put("/v1/models/m1", json={"recipe": "als"}, headers=auth("acme", "backend")).status_code == 403
    assert client.get("/v1/models/m1", headers=auth("acme", "frontend")).status_code == 403
    assert client.post("/v1/models/m1/train", headers=auth("acme", "frontend")).status_code == 403


def test_unknown_model_is_404_and_no_events_is_409(client: TestClient, auth: Auth) -> None:
    assert client.get("/v1/models/nope", headers=auth()).status_code == 404
    assert client.post("/v1/models/nope/train", headers=auth()).status_code == 404
    client.put("/v1/models/m1", json={"recipe": "popularity"}, headers=auth("acme", "manager"))
    response = client.post("/v1/models/m1/train", headers=auth())
    assert response.status_code == 409
    assert response.json()["code"] == "NO_TRAINING_DATA"
    assert "POST /v1/events" in response.json()["detail"]


def test_training_publishes_numbered_versions_with_metrics(client: TestClient, auth: Auth) -> None:
    post_events(client, auth)
    client.put("/v1/models/m1", json={"recipe": "item_knn"}, headers=auth("acme", "manager"))
    accepted = client.post("/v1/models/m1/train", headers=auth())
    assert accepted.status_code == 202
    assert accepted.json()["status"] == "training"
    wait_for_training()
    client.post("/v1/models/m1/train", headers=auth())
    wait_for_training()
    model = client.get("/v1/models/m1", headers=auth()).json()
    assert model["status"] == "ready"
    assert model["current_version"] == 2
    assert [v["version"] for v in model["versions"]] == [2, 1]
    metrics = model["versions"][0]["metrics"]
    assert (metrics["n_events"], metrics["n_users"], metrics["n_items"]) == (20, 4, 5)
    assert metrics["fit_seconds"] >= 0
    listed = client.get("/v1/models", headers=auth()).json()["models"]
    assert [(m["model_id"], m["current_version"]) for m in listed] == [("m1", 2)]


def test_a_second_training_request_while_one_runs_is_409(client: TestClient, auth: Auth) -> None:
    post_events(client, auth)
    client.put("/v1/models/m1", json={"recipe": "popularity"}, headers=auth("acme", "manager"))
    model_registry().start_training("acme", "m1", "someone-else", stale_after_seconds=900)
    response = client.post("/v1/models/m1/train", headers=auth())
    assert response.status_code == 409
    assert response.json()["code"] == "TRAINING_IN_PROGRESS"


def test_a_failed_training_says_why_and_keeps_the_serving_version(client: TestClient, auth: Auth) -> None:
    post_events(client, auth)
    client.put("/v1/models/m1", json={"recipe": "popularity"}, headers=auth("acme", "manager"))
    client.post("/v1/models/m1/train", headers=auth())
    wait_for_training()
    # Views now weigh nothing: no event is left to learn from.
    client.put(
        "/v1/models/m1", json={"recipe": "popularity", "event_weights": {"view": 0}}, headers=auth("acme", "manager")
    )
    client.post("/v1/models/m1/train", headers=auth())
    wait_for_training()
    model = client.get("/v1/models/m1", headers=auth()).json()
    assert model["status"] == "failed"
    assert "carries weight" in model["reason"]
    assert model["current_version"] == 1
    ranked = client.post("/v1/recommend", json={"user_id": "u1", "item_ids": ["i1"], "model_id": "m1"}, headers=auth())
    assert ranked.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        '{"recipe": "als", "params": {"factors": 1e309}}',
        '{"recipe": "als", "params": {"factors": NaN}}',
        '{"recipe": "als", "params": {"regularization": Infinity}}',
        '{"recipe": "als", "event_weights": {"view": {"weight": 1, "min_value": NaN}}}',
        '{"recipe": "als", "attributes": {"price": {"effect": "prefer_lower", "weight": NaN}}}',
    ],
)
def test_non_finite_numbers_are_422_not_500(client: TestClient, auth: Auth, body: str) -> None:
    headers = {**auth("acme", "manager"), "Content-Type": "application/json"}
    response = client.put("/v1/models/m1", content=body, headers=headers)
    assert response.status_code == 422
    assert "finite" in response.text or "integer" in response.text
