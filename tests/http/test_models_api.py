"""/v1/models through the gateway: definitions, validation, training to versions, failures."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from reco.ingestion import ingest_events
from reco.models.interactions import Interactions
from reco.models.recipes import SESSION_RECIPES
from reco.registry import ModelRecord, ModelVersion
from reco.services.launcher import training_launcher
from reco.stores.events import event_store
from reco.stores.models import model_registry
from tests.unit.test_tuning import popular, sessions, users

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


def load_events(data: Interactions, tenant: str = "acme") -> None:
    """A generated data set's events, in their order within the last day, by their user or session.

    Loaded as the bulk import does: moto copies the whole table on every transaction of POST /v1/events.
    """
    start, span = time.time() - 86_400, max(float(data.timestamps.max()), 1.0)
    events = []
    for n, (row, item, moment) in enumerate(zip(data.users, data.items, data.timestamps, strict=True)):
        kind, name = str(data.user_ids[row]).split("#", 1)
        who = {"user_id": name} if kind == "u" else {"session_id": name}
        events.append({"event_id": f"e{n}", "item_id": str(data.item_ids[item]), "type": "view", **who,
                       "timestamp": start + float(moment) / span * 80_000})  # fmt: skip
    assert not ingest_events(tenant, events, event_store(), bulk=True).rejected


def test_a_tuned_model_shows_its_search(client: TestClient, auth: Auth) -> None:
    load_events(users())
    defined = client.put(
        "/v1/models/m1",
        json={"recipe": "ease", "tune": {"metric": "ndcg@20", "budget_seconds": 60, "seed": 3}},
        headers=auth("acme", "manager"),
    ).json()
    assert defined["tune"] == {"metric": "ndcg@20", "budget_seconds": 60, "seed": 3}
    assert defined["params"]["l2"] == 500.0
    client.post("/v1/models/m1/train", headers=auth())
    wait_for_training()
    model = client.get("/v1/models/m1", headers=auth()).json()
    assert (model["status"], model["reason"], model["recipe"]) == ("ready", None, "ease")
    version = model["versions"][0]
    tuning = version["metrics"]["tuning"]
    assert (tuning["metric"], tuning["budget_seconds"], tuning["seed"], tuning["stopped"]) == (
        "ndcg@20",
        60,
        3,
        "space",
    )
    assert tuning["trials"][0]["params"] == {"l2": 500} and tuning["default"]["params"]["l2"] == 500
    assert sorted(t["params"]["l2"] for t in tuning["trials"]) == [50, 100, 250, 500, 1000, 2500, 5000]
    best = max(tuning["trials"], key=lambda t: t["value"])
    assert tuning["chosen"]["value"] == best["value"] >= tuning["default"]["value"] > tuning["popularity"]
    assert tuning["chosen"]["params"]["l2"] == best["params"]["l2"] == version["params"]["l2"]
    assert version["metrics"]["holdout_ndcg@20"] == tuning["chosen"]["value"]
    assert (version["recipe"], version["quality"]) == ("ease", "ok")


def test_auto_keeps_its_name_and_the_version_says_what_it_trained(client: TestClient, auth: Auth) -> None:
    load_events(sessions(n_sessions=300))
    defined = client.put(
        "/v1/models/m1", json={"recipe": "auto", "tune": {"metric": "mrr@20", "budget_seconds": 6}},
        headers=auth("acme", "manager"),
    ).json()  # fmt: skip
    assert (defined["recipe"], defined["params"], defined["tune"]["seed"]) == ("auto", {}, 0)
    client.post("/v1/models/m1/train", headers=auth())
    wait_for_training()
    model = client.get("/v1/models/m1", headers=auth()).json()
    assert (model["status"], model["recipe"]) == ("ready", "auto")
    version = model["versions"][0]
    tuning = version["metrics"]["tuning"]
    assert version["recipe"] == tuning["chosen"]["recipe"] in SESSION_RECIPES
    assert tuning["trials"][0]["recipe"] == "sequential_rules"  # session data: the session recipes first
    assert tuning["budget_seconds"] == 6 and tuning["stopped"] in ("budget", "converged", "space")
    assert tuning["chosen"]["value"] >= tuning["default"]["value"] > tuning["popularity"]
    ranked = client.post(
        "/v1/recommend", json={"session_id": "9", "item_ids": ["i010", "i050"], "model_id": "m1"}, headers=auth()
    )
    assert ranked.status_code == 200


def test_a_version_below_popularity_is_flagged_but_serves(client: TestClient, auth: Auth) -> None:
    load_events(popular())
    client.put("/v1/models/m1", json={"recipe": "item_knn"}, headers=auth("acme", "manager"))
    client.post("/v1/models/m1/train", headers=auth())
    wait_for_training()
    model = client.get("/v1/models/m1", headers=auth()).json()
    assert model["status"] == "ready" and model["tune"] is None
    assert "popularity scores better" in model["reason"]
    version = model["versions"][0]
    assert version["quality"] == "below_popularity"
    assert version["metrics"]["holdout_recall@20"] < version["metrics"]["holdout_popularity_recall@20"]
    assert "tuning" not in version["metrics"]
    listed = client.get("/v1/models", headers=auth()).json()["models"][0]
    assert listed["reason"] == model["reason"]


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"recipe": "auto", "params": {"factors": 8}}, "params belong to a chosen recipe"),
        ({"recipe": "als", "params": "best"}, "params"),
        ({"recipe": "als", "tune": {"metric": "recall@10"}}, "mrr@20"),
        ({"recipe": "als", "tune": {"budget_seconds": 841}}, "840"),
        ({"recipe": "als", "tune": {"budget_seconds": 0}}, "budget_seconds"),
        ({"recipe": "als", "tune": {"seed": -1}}, "seed"),
        ({"recipe": "als", "tune": {"patience": 3}}, "patience"),
    ],
)
def test_bad_tuning_definitions_are_422_naming_the_problem(
    client: TestClient, auth: Auth, definition: dict[str, object], message: str
) -> None:
    response = client.put("/v1/models/m1", json=definition, headers=auth("acme", "manager"))
    assert response.status_code == 422
    assert message in response.text


def test_params_auto_is_tune_with_defaults_and_given_params_stay(client: TestClient, auth: Auth) -> None:
    shorthand = client.put("/v1/models/m1", json={"recipe": "als", "params": "auto"}, headers=auth("acme", "manager"))
    assert shorthand.json()["tune"] == {"metric": "recall@20", "budget_seconds": 120, "seed": 0}
    both = client.put(
        "/v1/models/m1", json={"recipe": "als", "params": "auto", "tune": {"seed": 4}}, headers=auth("acme", "manager")
    )
    assert both.json()["tune"]["seed"] == 4
    fixed = client.put(
        "/v1/models/m1", json={"recipe": "als", "params": {"factors": 8}, "tune": {}}, headers=auth("acme", "manager")
    ).json()
    assert (fixed["params"]["factors"], fixed["tune"]["budget_seconds"]) == (8, 120)
    untuned = client.put("/v1/models/m1", json={"recipe": "als"}, headers=auth("acme", "manager")).json()
    assert untuned["tune"] is None  # a new definition without tune drops the old spec
    assert model_registry().get("acme", "m1").tune is None  # type: ignore[union-attr]


def test_records_and_versions_from_before_tuning_still_load(client: TestClient, auth: Auth) -> None:
    registry = model_registry()
    registry.put("acme", ModelRecord("old", "als", event_weights={"*": 1.0}))  # no tune, no quality attribute
    registry.start_training("acme", "old", "job", stale_after_seconds=0)
    registry.publish("acme", "old", "job", ModelVersion(1, "acme/models/old/v1.npz", "2026-11-25T00:00:00.000Z"))
    model = client.get("/v1/models/old", headers=auth()).json()
    assert (model["status"], model["reason"], model["tune"]) == ("ready", None, None)
    version = model["versions"][0]
    assert (version["recipe"], version["params"], version["quality"], version["metrics"]) == (None, None, None, {})
