"""Explanations computed from the model: anchors recomputed here for ALS, EASE and item kNN; rules; experiments."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from reco.event_weights import USER_PREFIX
from reco.models.artifact import ModelArtifact
from reco.scenarios.engine import ab_variant
from reco.services.serving import model_cache
from tests.lists.store import NOW, load_store, store_events, store_items

Auth = Callable[..., dict[str, str]]
ITEMS = {item["id"]: item["properties"] for item in store_items()}
WEIGHTS = {"view": 1.0, "purchase": 5.0}  # DEFAULT_EVENT_WEIGHTS of the types the store uses
USERS = [f"usr_{k}" for k in range(6)]


def get(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get("/v1/recommendations", params=params, headers=headers)
    assert response.status_code == 200, (params, response.json())
    return response.json()


def history(events: list[dict[str, Any]]) -> dict[str, float]:
    """Item → summed event weight, as training and fold-in weigh a user's events."""
    weights: dict[str, float] = defaultdict(float)
    for event in events:
        weights[event["item_id"]] += WEIGHTS[event["type"]]
    return dict(weights)


def brute_force(artifact: ModelArtifact, held: dict[str, float], targets: list[str]) -> np.ndarray:
    """(len(held), len(targets)): each history item's term of each target's score, from the artifact's arrays."""
    model: Any = artifact.model
    h_rows = artifact.item_rows(list(held)).astype(np.int64)
    t_rows = artifact.item_rows(targets).astype(np.int64)
    w = np.array(list(held.values()), dtype=np.float64)
    assert (h_rows >= 0).all() and (t_rows >= 0).all()
    if artifact.recipe == "ease":
        weight = np.ones_like(w) if model.params["binary"] else w
        return weight[:, None] * np.asarray(model.weights, dtype=np.float64)[np.ix_(h_rows, t_rows)]
    if artifact.recipe == "item_knn":
        weight = np.ones_like(w) if model.params["binary"] else w
        out = np.zeros((len(h_rows), len(t_rows)))
        for i, h in enumerate(h_rows):
            for j, t in enumerate(t_rows):
                kept = model.neighbors[h] == t  # only kept neighbours count
                out[i, j] = weight[i] * float(np.asarray(model.similarities[h], dtype=np.float64)[kept].sum())
        return out
    assert artifact.recipe == "als"
    y = np.asarray(model.item_factors, dtype=np.float64)
    c = 1.0 + float(model.params["alpha"]) * w
    yh = y[h_rows]
    a = y.T @ y + float(model.params["regularization"]) * np.eye(y.shape[1]) + yh.T @ np.diag(c - 1.0) @ yh
    return c[:, None] * (yh @ np.linalg.solve(a, y[t_rows].T))  # c_i · y_iᵀ A⁻¹ y_j


def verbs(events: list[dict[str, Any]]) -> dict[str, str]:
    """Item → how the user's strongest interaction with it reads: a purchase beats a view, whatever the order."""
    out: dict[str, str] = {}
    for event in events:
        if event["type"] == "purchase":
            out[event["item_id"]] = "purchased"
        else:
            out.setdefault(event["item_id"], "viewed")
    return out


def check_anchors(artifact: ModelArtifact, body: Any, events: list[dict[str, Any]], user_row: int | None) -> list[str]:
    """Every item's anchor is the argmax of the recomputed contributions; returns the anchors found."""
    held = history(events)
    names = list(held)
    targets = [entry["item_id"] for entry in body["data"]]
    matrix = brute_force(artifact, held, targets)
    explained = artifact.model.contributions(
        user_row,
        None if user_row is not None else _fresh(artifact, held),
        [int(r) for r in artifact.item_rows(targets)],
    )
    assert explained is not None
    rows, model_matrix = explained
    by_id = {str(artifact.item_ids[r]): k for k, r in enumerate(rows.tolist())}
    assert set(by_id) == set(names)
    np.testing.assert_allclose(model_matrix[[by_id[n] for n in names]], matrix, rtol=2e-3, atol=2e-5)
    said = verbs(events)
    found = []
    for j, entry in enumerate(body["data"]):
        explanation, column = entry["explanation"], matrix[:, j]
        if column.max() <= 0:
            assert explanation["anchor"] is None, entry
            continue
        anchor = explanation["anchor"]
        best = names[int(np.argmax(column))]
        runner_up = np.sort(column)[-2] if len(column) > 1 else -np.inf
        if column.max() - runner_up > 1e-4:  # not a float tie
            assert anchor["item_id"] == best, (entry["item_id"], anchor, best, column)
        else:
            assert column[names.index(anchor["item_id"])] >= column.max() - 1e-4
        value = column[names.index(anchor["item_id"])]
        assert anchor["contribution"] == pytest.approx(value, rel=2e-3, abs=2e-5)
        assert anchor["share"] == pytest.approx(value / column[column > 0].sum(), abs=2e-3)
        name = ITEMS[anchor["item_id"]]["name"]
        assert (
            anchor["name"] == name
            and anchor["interaction"] == {"viewed": "view", "purchased": "purchase"}[said[anchor["item_id"]]]
        )
        if anchor["item_id"] == entry["item_id"]:  # a history item recommended again: its own history wins
            assert explanation["summary"] == f"You {said[anchor['item_id']]} this item before."
        else:
            assert explanation["summary"] == f"Because you {said[anchor['item_id']]} {name!r}."
        assert explanation["shown_because"][0] == explanation["summary"]
        if artifact.recipe != "als" or user_row is None:  # scores are these sums (ALS serves a known user's factors)
            assert entry["score"] == pytest.approx(column.sum(), rel=2e-3, abs=1e-4)
        found.append(anchor["item_id"])
    return found


def _fresh(artifact: ModelArtifact, held: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    return artifact.item_rows(list(held)), np.array(list(held.values()), dtype=np.float32)


@pytest.mark.parametrize("recipe", ["als", "ease", "item_knn"])
def test_anchors_are_the_largest_contribution(client: TestClient, auth: Auth, recipe: str) -> None:
    tenant = f"explain-{recipe}"
    load_store(tenant, recipe=recipe)
    headers = auth(tenant)
    artifact = model_cache().serving(tenant).artifact
    assert artifact.recipe == recipe
    events = store_events()
    anchored: dict[str, list[str]] = {}
    for user in USERS:
        body = get(client, headers, user_id=user, limit=20)
        assert all(e["explanation"]["source"] == "user_profile" for e in body["data"])
        mine = [e for e in events if e["user_id"] == user]
        anchored[user] = check_anchors(artifact, body, mine, artifact.user_row(USER_PREFIX + user))
        assert len(anchored[user]) >= 15  # most items have a positive contributor
    assert len({a for found in anchored.values() for a in found}) >= 5  # not one canned anchor

    # Older events (not folded into the scores) still say how the user interacted: a purchase beats a view.
    # (ALS weighs purchases so much that its anchors are all purchased items; the others mix.)
    user = next(u for u in USERS if "purchased" in {verbs(_of(events, u))[a] for a in anchored[u]})
    said = verbs(_of(events, user))
    changed = {next(a for a in anchored[user] if said[a] == "purchased"): "view"}
    viewed = [a for u in [user] for a in anchored[u] if said[a] == "viewed"]
    if recipe != "als":
        assert viewed
        changed[viewed[0]] = "purchase"
    month_ago = (NOW - timedelta(days=30)).isoformat().replace("+00:00", "Z")
    more = [{"user_id": user, "item_id": item, "type": kind, "timestamp": month_ago} for item, kind in changed.items()]
    assert client.post("/v1/events", json={"events": more}, headers=headers).json()["accepted"] == len(more)
    body = get(client, headers, user_id=user, limit=20)
    shown = set()
    for entry in body["data"]:
        anchor = entry["explanation"]["anchor"]
        if anchor is not None and anchor["item_id"] in changed:
            expected = (
                "You purchased this item before."
                if anchor["item_id"] == entry["item_id"]
                else f"Because you purchased {ITEMS[anchor['item_id']]['name']!r}."
            )
            assert entry["explanation"]["summary"] == expected
            assert anchor["interaction"] == "purchase"
            shown.add(anchor["item_id"])
    assert shown == set(changed)

    # A new user's fresh events are folded in: the anchors come from them.
    fresh = [
        {"user_id": "usr_new", "item_id": "itm_1", "type": "view"},  # books
        {"user_id": "usr_new", "item_id": "itm_5", "type": "view"},  # garden
        {"user_id": "usr_new", "item_id": "itm_9", "type": "view"},  # electronics
    ]
    assert client.post("/v1/events", json={"events": fresh}, headers=headers).json()["accepted"] == 3
    body = get(client, headers, user_id="usr_new", limit=60)
    assert body["embedding_info"]["source"] == "events" and body["cold_start_fallback_used"] is False
    assert all(e["explanation"]["source"] == "session_history" for e in body["data"])
    assert len(set(check_anchors(artifact, body, fresh, None))) == 3

    # Nobody known: trending, and every explanation says why.
    body = get(client, headers, user_id="usr_stranger", limit=10)
    assert body["cold_start_fallback_used"] is True and body["embedding_info"]["used_default"] is True
    reason = body["embedding_info"]["default_reason"]
    assert reason == "unknown user with no recent events" and body["explanation"]["fallback"]["reason"] == reason
    order = np.argsort(-np.asarray(artifact.trending, dtype=np.float64), kind="stable")[:10]
    assert [e["item_id"] for e in body["data"]] == [str(artifact.item_ids[r]) for r in order]
    for entry in body["data"]:
        explanation = entry["explanation"]
        assert explanation["source"] == "trending" and explanation["anchor"] is None
        assert explanation["summary"] == f"Trending now ({reason})."
        assert explanation["shown_because"] == [explanation["summary"], f"Fallback used: {reason}."]


def _of(events: list[dict[str, Any]], user: str) -> list[dict[str, Any]]:
    return [e for e in events if e["user_id"] == user]


TENANT = "explain-rules"


def put(client: TestClient, headers: dict[str, str], path: str, body: Any) -> Any:
    response = client.put(path, json=body, headers=headers)
    assert response.status_code == 200, (path, response.json())
    return response.json()


def category_case(category: str) -> dict[str, Any]:
    return {
        "scenario_type": "case",
        "case": {"filters": [{"property_name": "category", "op": "eq", "value": category}]},
    }


def test_rules_list_every_filter_that_applied_and_experiments_the_variant(client: TestClient, auth: Auth) -> None:
    load_store(TENANT)
    manager = auth(TENANT, "manager")
    put(client, manager, "/v1/contexts/40", {"name": "Books", "filters": ["category:books"]})
    plain = get(client, manager, user_id="usr_1", context_id="40", filter="price<300", limit=5)
    filters = [
        {"type": "filter", "source": "context", "text": "category:books", "description": "category is books"},
        {"type": "filter", "source": "filter", "text": "price<300", "description": "price below 300"},
    ]
    assert plain["explanation"]["rules"] == filters and plain["experiments"] == []
    for entry in plain["data"]:
        assert entry["explanation"]["rules"] == filters and entry["explanation"]["experiments"] == []
        assert entry["explanation"]["shown_because"][1:] == [
            "Matches the filter: category is books.",
            "Matches the filter: price below 300.",
        ]
        assert ITEMS[entry["item_id"]]["category"] == "books" and ITEMS[entry["item_id"]]["price"] < 300
    # A default scenario's filters join in, and are listed first.
    in_stock = {
        "scenario_type": "case",
        "case": {"filters": [{"property_name": "in_stock", "op": "eq", "value": True}]},
    }
    put(client, manager, "/scenarios/profile_to_items/in_stock/", in_stock)
    assert (
        client.patch("/scenarios-default/profile_to_items/", json={"name": "in_stock"}, headers=manager).status_code
        == 204
    )
    body = get(client, manager, user_id="usr_1", context_id="40", filter="price<300", limit=5)
    scenario_rule = {"type": "scenario_filter", "property": "in_stock", "op": "eq", "value": True}
    assert body["explanation"]["rules"] == [scenario_rule, *filters]
    assert body["explanation"]["evaluated_scenarios"]["default"][0]["scenario_name"] == "in_stock"
    for entry in body["data"]:
        assert entry["explanation"]["rules"] == [scenario_rule, *filters]
        assert "Passed the scenario's 1 filter(s)." in entry["explanation"]["shown_because"]
        assert ITEMS[entry["item_id"]]["in_stock"] is True
    viewed = put(client, manager, "/v1/contexts/41", {"name": "Unseen", "excluded_viewed_items": {"window_days": 5}})
    assert viewed["excluded_viewed_items"] == {"enabled": True, "interaction_types": ["view"], "window_days": 5}
    body = get(client, manager, user_id="usr_1", context_id="41", limit=5)
    assert body["explanation"]["rules"][-1] == {
        "type": "excluded_viewed_items",
        "enabled": True,
        "interaction_types": ["view"],
        "window_days": 5,
        "count": 3,
    }
    # An A/B test routes each user to one variant; the response says which.
    put(client, manager, "/scenarios/profile_to_items/sa/", category_case("books"))
    put(client, manager, "/scenarios/profile_to_items/sb/", category_case("garden"))
    ab = {"scenario_type": "ab_test", "ab_test": {"id": "exp-7", "scenario_a": "sa", "scenario_b": "sb"}}
    put(client, manager, "/scenarios/profile_to_items/ab/", ab)
    assert put(client, manager, "/v1/contexts/42", {"name": "AB", "scenario": "ab"})["warnings"] == []
    seen = set()
    for user in [f"usr_{k}" for k in range(8)]:
        variant = ab_variant("exp-7", user)
        seen.add(variant)
        body = get(client, manager, user_id=user, context_id="42", limit=6)
        assigned = "sa" if variant == "A" else "sb"
        experiment = {"id": "exp-7", "scenario": "ab", "variant": variant, "assigned_to": assigned}
        assert body["experiments"] == [experiment], user
        assert all(e["explanation"]["experiments"] == [experiment] for e in body["data"])
        assert {ITEMS[i["item_id"]]["category"] for i in body["data"]} == {"books" if variant == "A" else "garden"}
        assert body["data"][0]["explanation"]["pipeline"]["scenario"] == "ab"
        assert body["data"][0]["explanation"]["context"] == {"context_id": "42", "name": "AB", "scenario": "ab"}
    assert seen == {"A", "B"}
