"""GET /v1/recommendations: the reference's example replayed, every parameter and alias, ids and telemetry headers."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from reco.services.serving import model_cache
from reco.stores.decisions import decision_store
from tests.lists.store import N_ITEMS, load_store, store_items

Auth = Callable[..., dict[str, str]]
TENANT = "shape"
ITEMS = {item["id"]: item["properties"] for item in store_items()}
TOP_LEVEL = {
    "object",
    "message",
    "request_id",
    "url",
    "data",
    "recommendations",
    "has_more",
    "next_cursor",
    "limit",
    "quantity",
    "embedding_info",
    "cold_start_fallback_used",
    "explanation",
    "excluded_viewed_items",
    "processing_time_ms",
    "mode",
    "experiments",
    "user_segments",
    "pipeline_id",
}
EXPLANATION = {"summary", "shown_because", "source", "score", "pipeline", "rules", "experiments", "context", "anchor"}


def get(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get("/v1/recommendations", params=params, headers=headers)
    assert response.status_code == 200, response.json()
    return response.json()


def ids(body: Any) -> list[str]:
    return [entry["item_id"] for entry in body["data"]]


def refused(client: TestClient, headers: dict[str, str], status: int = 400, **params: Any) -> Any:
    response = client.get("/v1/recommendations", params=params, headers=headers)
    assert response.status_code == status, (params, response.json())
    assert response.json()["request_id"] == response.headers["x-request-id"]
    return response.json()


def names_parameter(body: Any, parameter: str) -> bool:
    """A 400 names the parameter: in ``data.parameter`` (RecoErrors) or the validation errors' locations."""
    if body.get("data", {}).get("parameter") == parameter:
        return True
    return any(error["loc"][-1] == parameter for error in body.get("errors", [])) and parameter in body["detail"]


@pytest.fixture
def store(client: TestClient) -> TestClient:
    load_store(TENANT)
    return client


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_recommendation(entry: dict[str, Any], rank: int, context: dict[str, Any] | None) -> None:
    item_id = entry["item_id"]
    assert entry["id"] == f"rec_{item_id}" and entry["object"] == "recommendation" and entry["rank"] == rank
    assert isinstance(entry["score"], float)
    properties = ITEMS[item_id]
    assert entry["item"] == {
        "id": item_id,
        "object": "item",
        "name": properties["name"],
        "description": properties["description"],
        "metadata": {k: v for k, v in properties.items() if k not in ("name", "description")},
    }
    explanation = entry["explanation"]
    assert set(explanation) == EXPLANATION
    assert isinstance(explanation["summary"], str) and explanation["summary"]
    assert explanation["shown_because"][0] == explanation["summary"]
    assert all(isinstance(reason, str) for reason in explanation["shown_because"])
    assert explanation["score"] == entry["score"]
    pipeline = explanation["pipeline"]
    assert (pipeline["model_id"], pipeline["recipe"], pipeline["reco_type"]) == (
        "store-model",
        "als",
        "profile_to_items",
    )
    assert isinstance(explanation["rules"], list) and explanation["experiments"] == []
    assert explanation["context"] == context


def test_reference_example_replayed_has_every_documented_field(store: TestClient, auth: Auth) -> None:
    written = store.put("/v1/contexts/101", json={"name": "Home page"}, headers=auth(TENANT, "manager"))
    assert written.status_code == 200, written.json()
    response = store.get(
        "/v1/recommendations?user_id=usr_abc123&context_id=101&limit=10", headers=auth(TENANT, "backend")
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == TOP_LEVEL  # single mode: no section, no done
    assert (body["object"], body["message"], body["url"]) == ("list", "Recommendations fetched", "/v1/recommendations")
    assert isinstance(body["request_id"], str) and body["request_id"] == response.headers["x-request-id"]
    assert len(body["data"]) == 10 and body["recommendations"] == body["data"]
    context = {"context_id": "101", "name": "Home page", "scenario": None}
    for rank, entry in enumerate(body["data"], start=1):
        check_recommendation(entry, rank, context)
    scores = [entry["score"] for entry in body["data"]]
    assert scores == sorted(scores, reverse=True)
    assert body["has_more"] is True and body["next_cursor"].startswith("pg_")
    assert (body["limit"], body["quantity"], body["mode"], body["pipeline_id"]) == (10, 10, "single", 101)
    # usr_abc123 is unknown: trending, and every field says so.
    assert body["cold_start_fallback_used"] is True
    reason = "unknown user with no recent events"
    assert body["embedding_info"] == {
        "source": "default",
        "used_default": True,
        "default_reason": reason,
        "dimension": None,
        "expected_dimension": 8,
    }
    assert body["explanation"]["scope"] == "request" and "own explanation object" in body["explanation"]["note"]
    assert body["explanation"]["fallback"] == {"used": True, "reason": reason}
    assert body["excluded_viewed_items"] is None and body["experiments"] == []
    assert _is_int(body["processing_time_ms"]) and body["processing_time_ms"] >= 0
    assert body["user_segments"] == ["new_visitor"]
    artifact = model_cache().serving(TENANT).artifact
    assert scores == [round(float(artifact.trending[row]), 6) for row in artifact.item_rows(ids(body))]
    best = np.argsort(-np.asarray(artifact.trending), kind="stable")[:10]
    assert ids(body) == [str(artifact.item_ids[row]) for row in best]

    known = get(store, auth(TENANT), user_id="usr_0", context_id="101", limit=10)
    assert set(known) == TOP_LEVEL and known["cold_start_fallback_used"] is False
    assert known["embedding_info"] == {
        "source": "model",
        "used_default": False,
        "default_reason": None,
        "dimension": 8,
        "expected_dimension": 8,
    }
    assert known["user_segments"] == ["returning", "recently_active", "purchaser", "vip"]
    assert all(entry["explanation"]["source"] == "user_profile" for entry in known["data"])

    auto = get(store, auth(TENANT), user_id="usr_0", mode="auto", limit=4)
    assert set(auto) == TOP_LEVEL | {"section", "done"} and auto["mode"] == "auto"
    assert set(auto["section"]) == {"key", "type", "title", "anchor_item_id", "category"}
    assert auto["done"] is False and auto["next_cursor"].startswith("au_") and len(auto["data"]) == 4


def test_user_id_falls_back_to_the_token_subject(store: TestClient, auth: Auth) -> None:
    as_subject = get(store, auth(TENANT, "frontend", subject="usr_3"), limit=15)
    explicit = get(store, auth(TENANT, "backend"), user_id="usr_3", limit=15)
    assert ids(as_subject) == ids(explicit) and as_subject["cold_start_fallback_used"] is False
    other = get(store, auth(TENANT, "frontend", subject="usr_3"), user_id="usr_4", limit=15)
    assert ids(other) == ids(get(store, auth(TENANT), user_id="usr_4", limit=15)) != ids(explicit)
    assert decision_store().get(TENANT, as_subject["request_id"])["user_id"] == "usr_3"
    assert decision_store().get(TENANT, other["request_id"])["user_id"] == "usr_4"
    # The default local subject is nobody the model knows: trending.
    assert get(store, auth(TENANT), limit=5)["cold_start_fallback_used"] is True


def test_context_id_forms_and_errors(store: TestClient, auth: Auth) -> None:
    body = {"name": "Books", "filters": ["category:books"]}
    assert store.put("/v1/contexts/101", json=body, headers=auth(TENANT, "manager")).status_code == 200
    headers = auth(TENANT)
    lists = [get(store, headers, user_id="usr_1", context_id=form, limit=8) for form in ("101", "ctx_101", "0101")]
    assert ids(lists[0]) == ids(lists[1]) == ids(lists[2]) and len(ids(lists[0])) == 8
    assert all(ITEMS[i]["category"] == "books" for i in ids(lists[0]))
    assert [body["pipeline_id"] for body in lists] == [101, 101, 101]
    # The forms name one context: a cursor of one pages the other.
    following = get(store, headers, user_id="usr_1", context_id="ctx_101", starting_after=lists[0]["next_cursor"])
    assert ids(following)[0] not in ids(lists[0]) and following["data"][0]["rank"] == 9
    assert ids(get(store, headers, user_id="usr_1", limit=8)) != ids(lists[0])
    for bad in ("abc", "ctx_", "ctx_x1", "ctx101", "1.5", "-3", "+5", "1" * 19, "x" * 33, "\u0661\u0660\u0661", ""):
        error = refused(store, headers, context_id=bad)
        assert names_parameter(error, "context_id"), (bad, error)
    missing = refused(store, headers, status=404, context_id="999")
    assert missing["code"] == "CONTEXT_NOT_FOUND" and "999" in missing["detail"]


def test_limit_quantity_and_their_bounds(store: TestClient, auth: Auth) -> None:
    headers = auth(TENANT)
    default = get(store, headers, user_id="usr_2")
    assert (len(default["data"]), default["limit"], default["quantity"]) == (20, 20, 20)
    everything = get(store, headers, user_id="usr_2", limit=100)
    assert len(everything["data"]) == N_ITEMS and everything["has_more"] is False and everything["next_cursor"] is None
    assert ids(everything)[:20] == ids(default) and sorted(ids(everything)) == sorted(ITEMS)
    assert [e["rank"] for e in everything["data"]] == list(range(1, N_ITEMS + 1))
    one = get(store, headers, user_id="usr_2", limit=1)
    assert ids(one) == ids(default)[:1] and one["has_more"] is True
    legacy = get(store, headers, user_id="usr_2", quantity=5)
    assert ids(legacy) == ids(default)[:5] and (legacy["limit"], legacy["quantity"]) == (5, 5)
    assert ids(get(store, headers, user_id="usr_2", limit=5, quantity=5)) == ids(legacy)
    conflict = refused(store, headers, user_id="usr_2", limit=5, quantity=6)
    assert conflict["code"] == "WRONG_PARAMETER" and names_parameter(conflict, "quantity")
    for name in ("limit", "quantity"):
        for bad in (0, 101, -1, 10**30, "ten", "", "5.5"):
            error = refused(store, headers, user_id="usr_2", **{name: bad})
            assert error["code"] == "VALIDATION_FAILED" and error["detail"].startswith("invalid request: ")
            assert names_parameter(error, name), (name, bad, error)
    # A context's limit is the default; the request's wins.
    assert store.put("/v1/contexts/5", json={"name": "n", "limit": 7}, headers=auth(TENANT, "root")).status_code == 200
    assert len(get(store, headers, user_id="usr_2", context_id="5")["data"]) == 7
    assert len(get(store, headers, user_id="usr_2", context_id="5", limit=3)["data"]) == 3


def _cosine(item_id: str) -> dict[str, float]:
    """Cosine similarity of the ALS item factors to ``item_id``'s, recomputed here."""
    artifact = model_cache().serving(TENANT).artifact
    factors = np.asarray(artifact.model.item_factors, dtype=np.float64)  # type: ignore[attr-defined]
    norms = np.linalg.norm(factors, axis=1)
    row = int(artifact.item_rows([item_id])[0])
    similarity = factors @ factors[row] / (norms * norms[row])
    return {str(i): float(v) for i, v in zip(artifact.item_ids, similarity, strict=True)}


def test_item_entity_lists_similar_items(store: TestClient, auth: Auth) -> None:
    headers = auth(TENANT)
    body = get(store, headers, entity_type="Item", item_id="itm_3", limit=100)
    assert "itm_3" not in ids(body) and len(ids(body)) == N_ITEMS - 1
    similarity = _cosine("itm_3")
    served = [similarity[i] for i in ids(body)]
    assert all(a >= b - 1e-5 for a, b in itertools.pairwise(served))  # best first (float32 ties)
    assert [e["score"] for e in body["data"]] == pytest.approx(served, abs=1e-5)
    assert {i for i in ids(body)[:19]} == {i for i in ITEMS if ITEMS[i]["category"] == "electronics"} - {"itm_3"}
    first = body["data"][0]["explanation"]
    assert first["source"] == "item_similarity" and first["summary"] == "Similar to 'Electronics thing 3'."
    assert first["pipeline"]["reco_type"] == "item_to_items" and body["embedding_info"]["source"] == "item"
    as_user_id = get(store, headers, entity_type="Item", user_id="itm_3", limit=100)  # the reference's only id
    assert ids(as_user_id) == ids(body)
    renamed = get(store, headers, entity_type="Item", item_id="itm_3", name="My lamp", limit=3)
    assert ids(renamed) == ids(body)[:3] and renamed["data"][0]["explanation"]["summary"] == "Similar to 'My lamp'."
    assert decision_store().get(TENANT, body["request_id"])["context"]["item_id"] == "itm_3"

    missing_id = refused(store, headers, entity_type="Item")
    assert names_parameter(missing_id, "item_id")
    unknown = refused(store, headers, status=404, entity_type="Item", item_id="itm_zzz")
    assert unknown["code"] == "ITEM_NOT_FOUND" and "itm_zzz" in unknown["detail"]
    # Unknown to the model and the catalog, but described: the catalog items that match seed the list.
    described = get(store, headers, entity_type="Item", item_id="itm_zzz", name="garden Nova", limit=5)
    assert described["embedding_info"]["source"] == "text" and described["embedding_info"]["used_default"] is False
    assert all(ITEMS[i]["category"] == "garden" for i in ids(described))
    assert described["data"][0]["explanation"]["source"] == "text_match"
    as_user = get(store, headers, user_id="usr_unknown", description="Nova garden", limit=5)
    assert as_user["embedding_info"]["source"] == "text" and as_user["cold_start_fallback_used"] is False
    assert all(ITEMS[i]["category"] == "garden" for i in ids(as_user))
    nothing = get(store, headers, user_id="usr_unknown", description="zzzz qqqq", limit=5)
    assert nothing["cold_start_fallback_used"] is True and nothing["embedding_info"]["source"] == "default"
    assert any("no catalog text matches" in w for w in nothing["explanation"]["warnings"])
    for bad in ("user", "ITEM", "", "Items"):
        assert names_parameter(refused(store, headers, entity_type=bad, item_id="itm_3"), "entity_type")


def test_request_ids_and_telemetry_headers_reach_the_decision(store: TestClient, auth: Auth) -> None:
    headers = auth(TENANT)
    client_headers = {"X-SDK": "web-sdk", "X-SDK-Version": "2.1.0", "X-Platform": "ios"}
    response = store.get(
        "/v1/recommendations",
        params={"user_id": "usr_5", "request_id": "q-2", "limit": 4, "session_id": "s-query", "anonymous_id": "a-q"},
        headers={**headers, **client_headers, "X-Session-Id": "s-header"},
    )
    body = response.json()
    assert response.status_code == 200 and body["request_id"] == response.headers["x-request-id"] == "q-2"
    decision = decision_store().get(TENANT, "q-2")
    assert decision is not None and decision["request_id"] == "q-2" and decision["endpoint"] == "v1_recommendations"
    assert decision["items"] == ids(body) and decision["scores"] == [e["score"] for e in body["data"]]
    assert (decision["user_id"], decision["session_id"], decision["anonymous_id"]) == ("usr_5", "s-header", "a-q")
    assert decision["context"]["client"] == {"sdk": "web-sdk", "sdk_version": "2.1.0", "platform": "ios"}
    assert (decision["model_id"], decision["context"]["mode"], decision["context"]["entity_type"]) == (
        "store-model",
        "single",
        "User",
    )
    # The header wins over the query string; the query's id is then not used at all.
    response = store.get(
        "/v1/recommendations", params={"request_id": "q-3", "limit": 2}, headers={**headers, "X-Request-Id": "hdr-1"}
    )
    assert response.json()["request_id"] == response.headers["x-request-id"] == "hdr-1"
    assert decision_store().get(TENANT, "hdr-1") is not None and decision_store().get(TENANT, "q-3") is None
    camel = store.get(
        "/v1/recommendations",
        params={"requestId": "q-4", "sessionId": "s-camel", "anonymousId": "a-camel", "limit": 2},
        headers={**headers, "X-Anonymous-Id": "a-header"},
    )
    assert camel.json()["request_id"] == camel.headers["x-request-id"] == "q-4"
    decision = decision_store().get(TENANT, "q-4")
    assert (decision["session_id"], decision["anonymous_id"], decision["context"]["client"]) == (
        "s-camel",
        "a-header",
        {},
    )
    # An invalid header is not an id: the query's is adopted.
    adopted = store.get("/v1/recommendations", params={"request_id": "q-5"}, headers={**headers, "X-Request-Id": "a b"})
    assert adopted.json()["request_id"] == adopted.headers["x-request-id"] == "q-5"
    # Errors carry the adopted id too.
    error = refused(store, headers, request_id="q-6", limit=3, quantity=4)
    assert error["request_id"] == "q-6" and decision_store().get(TENANT, "q-6") is None
    for bad in ("bad id!", "x" * 129, "é", "a/b"):
        for name in ("request_id", "requestId"):
            error = refused(store, headers, **{name: bad})
            assert error["request_id"] != bad and ("request_id" in error["detail"] or name in error["detail"])
