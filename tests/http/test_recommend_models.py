"""POST /v1/recommend with trained models: real scores, fallback, read-your-writes, rules, decisions."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from local.demo import DEMO_ATTRIBUTES
from reco.demo import generate_demo
from reco.ingestion import ingest_events, ingest_items
from reco.registry import ModelRecord
from reco.schemas.models import DEFAULT_EVENT_WEIGHTS
from reco.services.training import training_services
from reco.stores.catalog import catalog_store
from reco.stores.decisions import decision_store
from reco.stores.events import event_store
from reco.stores.models import model_registry
from reco.training.requests import TrainingJob
from reco.training.service import run_training

Auth = Callable[..., dict[str, str]]
DEMO = generate_demo(n_items=60, n_users=40)


@pytest.fixture
def trained(client: TestClient) -> Iterator[TestClient]:
    """Tenant acme with a small demo catalog and an ALS model ``m`` (stock 0 demoted, sales boosted)."""
    assert not ingest_items("acme", DEMO.items, catalog_store()).rejected
    assert not ingest_events("acme", DEMO.events, event_store(), bulk=True).rejected
    registry = model_registry()
    registry.define(
        "acme", ModelRecord("m", "als", event_weights=dict(DEFAULT_EVENT_WEIGHTS), attributes=DEMO_ATTRIBUTES)
    )
    registry.start_training("acme", "m", "job-1", stale_after_seconds=0)
    assert run_training(TrainingJob("acme", "m", "job-1"), training_services()) is not None
    yield client


def recommend(client: TestClient, auth: Auth, **body: object) -> dict[str, object]:
    response = client.post("/v1/recommend", json={"model_id": "m", **body}, headers=auth())
    assert response.status_code == 200, response.text
    return dict(response.json())


def in_stock(n: int) -> list[str]:
    return [item["id"] for item in DEMO.items if item["properties"]["stock"] > 0][:n]


def test_a_known_user_gets_model_scores_for_exactly_the_candidates(trained: TestClient, auth: Auth) -> None:
    candidates = in_stock(8)
    body = recommend(trained, auth, user_id="user-001", item_ids=candidates)
    items = body["items"]
    assert isinstance(items, list)
    assert sorted(i["id"] for i in items) == sorted(candidates)
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) > 1  # real scores, not a constant
    assert "fallback" not in body
    other = recommend(trained, auth, user_id="user-002", item_ids=candidates)["items"]
    assert [i["id"] for i in other] != [i["id"] for i in items] or [i["score"] for i in other] != scores


def test_limit_and_unknown_candidates_rank_last(trained: TestClient, auth: Auth) -> None:
    candidates = ["never-seen", *in_stock(4)]
    items = recommend(trained, auth, user_id="user-001", item_ids=candidates)["items"]
    assert [i["id"] for i in items][-1] == "never-seen"
    assert len(recommend(trained, auth, user_id="user-001", item_ids=candidates, limit=2)["items"]) == 2


def test_attribute_rules_never_lift_unseen_candidates_above_seen_ones(trained: TestClient, auth: Auth) -> None:
    seen = [{"id": c, "attributes": {"on_sale": False}} for c in in_stock(3)]
    unseen = [{"id": "never-1"}, {"id": "never-2", "attributes": {"on_sale": True}}]
    items = recommend(trained, auth, user_id="user-001", items=[*unseen, *seen])["items"]
    assert [i["id"] for i in items][-2:] == ["never-1", "never-2"]  # type: ignore[index]


def test_nobody_known_falls_back_to_trending_and_says_so(trained: TestClient, auth: Auth) -> None:
    body = recommend(trained, auth, user_id="stranger", item_ids=in_stock(5))
    assert body["fallback"] == {"source": "trending", "reason": "unknown user with no recent events"}


def test_the_next_request_sees_a_new_event(trained: TestClient, auth: Auth) -> None:
    """Read-your-writes: a session's first event personalises its very next ranking."""
    candidates = in_stock(10)
    before = recommend(trained, auth, session_id="s-new", item_ids=candidates)
    assert before["fallback"]["source"] == "trending"  # type: ignore[index]
    event = {"session_id": "s-new", "item_id": candidates[-1], "type": "purchase"}
    assert trained.post("/v1/events", json={"events": [event]}, headers=auth()).json()["accepted"] == 1
    after = recommend(trained, auth, session_id="s-new", item_ids=candidates)
    assert "fallback" not in after
    assert after["items"] != before["items"]


def test_attribute_rules_use_request_attributes_over_the_catalog(trained: TestClient, auth: Auth) -> None:
    candidates = in_stock(6)
    plain = recommend(trained, auth, user_id="user-001", item_ids=candidates)["items"]
    top = plain[0]["id"]  # type: ignore[index]
    items = [{"id": c, "attributes": {"stock": 0 if c == top else 5, "on_sale": False}} for c in candidates]
    demoted = recommend(trained, auth, user_id="user-001", items=items)["items"]
    assert demoted[-1]["id"] == top  # type: ignore[index]
    # Names the model has no rule for are ignored.
    ignored = [{"id": c, "attributes": {"colour": "red"}} for c in candidates]
    assert [i["id"] for i in recommend(trained, auth, user_id="user-001", items=ignored)["items"]] == [  # type: ignore[union-attr]
        i["id"]
        for i in plain  # type: ignore[union-attr]
    ]


def test_every_response_is_logged_as_a_decision(trained: TestClient, auth: Auth) -> None:
    candidates = in_stock(3)
    response = trained.post(
        "/v1/recommend",
        json={"model_id": "m", "user_id": "user-003", "item_ids": candidates, "context": {"device_type": "mobile"}},
        headers={**auth(), "X-Request-Id": "req-42"},
    ).json()
    decision = decision_store().get("acme", response["rec_id"])
    assert decision is not None
    assert decision["items"] == [i["id"] for i in response["items"]]
    assert decision["model_id"] == "m" and decision["model_version"] == 1
    assert decision["context"] == {"device_type": "mobile"}
    assert decision["user_id"] == "user-003" and decision["request_id"] == "req-42"
    assert decision_store().get("other-tenant", response["rec_id"]) is None


def test_attribute_rules_may_read_the_request_context(trained: TestClient, auth: Auth) -> None:
    rule = {
        "effect": "demote",
        "when": {"op": "eq", "value": True},
        "weight": 10,
        "context": {"device_type": {"op": "eq", "value": "mobile"}, "screen.small": {"op": "eq", "value": True}},
    }
    defined = trained.put(
        "/v1/models/mobile", json={"recipe": "als", "attributes": {"heavy_page": rule}}, headers=auth("acme", "manager")
    )
    assert defined.status_code in (200, 201), defined.text
    model_registry().start_training("acme", "mobile", "job-2", stale_after_seconds=0)
    assert run_training(TrainingJob("acme", "mobile", "job-2"), training_services()) is not None
    candidates = in_stock(6)
    plain = recommend(trained, auth, model_id="mobile", user_id="user-001", item_ids=candidates)["items"]
    top = plain[0]["id"]  # type: ignore[index]
    items = [{"id": c, "attributes": {"heavy_page": c == top}} for c in candidates]

    def ranked(context: dict[str, object]) -> list[str]:
        answer = recommend(trained, auth, model_id="mobile", user_id="user-001", items=items, context=context)
        return [i["id"] for i in answer["items"]]  # type: ignore[union-attr]

    assert ranked({"device_type": "mobile", "screen": {"small": True}})[-1] == top  # every condition holds
    assert ranked({"device_type": "mobile"})[0] == top  # one condition does not: the rule is off
    assert ranked({"device_type": "desktop", "screen": {"small": True}})[0] == top


def test_a_context_condition_on_a_bad_path_is_a_422(client: TestClient, auth: Auth) -> None:
    rule = {"effect": "boost", "when": {"op": "exists"}, "context": {"a..b": {"op": "exists"}}}
    response = client.put(
        "/v1/models/m2", json={"recipe": "als", "attributes": {"x": rule}}, headers=auth("acme", "manager")
    )
    assert response.status_code == 422
    assert "a..b" in response.text
