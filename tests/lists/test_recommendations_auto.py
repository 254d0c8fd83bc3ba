"""mode=auto: one section per call, because-you-viewed (newest anchor first), popular in category, trending."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from reco.lists.cursor import AutoCursor, decode_list_cursor
from reco.services.serving import model_cache
from reco.stores.decisions import decision_store
from tests.lists.store import NOW, load_store, store_events, store_items

Auth = Callable[..., dict[str, str]]
TENANT = "auto"
ITEMS = {item["id"]: item["properties"] for item in store_items()}


@pytest.fixture
def store(client: TestClient) -> TestClient:
    load_store(TENANT)
    return client


def get(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get("/v1/recommendations", params={"mode": "auto", **params}, headers=headers)
    assert response.status_code == 200, (params, response.json())
    return response.json()


def feed(client: TestClient, headers: dict[str, str], **params: Any) -> list[Any]:
    """Every section of the feed, one call each, until done."""
    pages = [get(client, headers, **params)]
    while not pages[-1]["done"]:
        assert len(pages) < 60 and pages[-1]["next_cursor"].startswith("au_")
        pages.append(get(client, headers, cursor=pages[-1]["next_cursor"], **params))
    return pages


def recent(user: str, days: float = 14) -> list[tuple[str, str]]:
    """(item id, event type) of the user's events in the window, newest first."""
    events = [e for e in store_events() if e["user_id"] == user]
    at = {e["event_id"]: datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")) for e in events}
    inside = [e for e in events if (NOW - at[e["event_id"]]).total_seconds() <= days * 86_400]
    inside.sort(key=lambda e: at[e["event_id"]], reverse=True)
    return [(e["item_id"], e["type"]) for e in inside]


def ids(page: Any) -> list[str]:
    return [entry["item_id"] for entry in page["data"]]


def similar_order(anchor: str, banned: set[str]) -> list[str]:
    """Items by cosine similarity of the ALS factors to ``anchor``, recomputed here (banned ones left out)."""
    artifact = model_cache().serving(TENANT).artifact
    factors = np.asarray(artifact.model.item_factors, dtype=np.float64)  # type: ignore[attr-defined]
    norms = np.linalg.norm(factors, axis=1)
    row = int(artifact.item_rows([anchor])[0])
    similarity = factors @ factors[row] / (norms * norms[row])
    order = np.argsort(-similarity, kind="stable")
    return [str(artifact.item_ids[r]) for r in order if str(artifact.item_ids[r]) not in banned]


def trending_order(banned: set[str]) -> list[str]:
    artifact = model_cache().serving(TENANT).artifact
    order = np.argsort(-np.asarray(artifact.trending, dtype=np.float64), kind="stable")
    return [str(artifact.item_ids[r]) for r in order if str(artifact.item_ids[r]) not in banned]


def test_sections_follow_recent_activity_then_category_then_trending(store: TestClient, auth: Auth) -> None:
    headers = auth(TENANT)
    anchors = recent("usr_3")
    assert len(anchors) == 3
    pages = feed(store, headers, user_id="usr_3", limit=4)
    keys = [page["section"]["key"] for page in pages]
    assert keys == [f"because:{item}" for item, _ in anchors] + ["category:electronics", "trending"]
    assert len(set(keys)) == len(keys)
    assert [page["done"] for page in pages] == [False] * (len(pages) - 1) + [True]
    assert [page["has_more"] for page in pages] == [True] * (len(pages) - 1) + [False]
    assert pages[-1]["next_cursor"] is None
    banned = {item for item, _ in anchors}
    for page, (anchor, kind) in zip(pages, anchors, strict=False):
        section = page["section"]
        name = ITEMS[anchor]["name"]
        verb = {"view": "viewed", "purchase": "purchased"}[kind]
        assert section == {
            "key": f"because:{anchor}",
            "type": "because_you_viewed",
            "title": f"Because you {verb} {name}",
            "anchor_item_id": anchor,
            "category": None,
        }
        assert len(ids(page)) == 4 and not banned & set(ids(page))  # anchors never shown
        best = similar_order(anchor, banned)
        scores = [e["score"] for e in page["data"]]
        assert scores == sorted(scores, reverse=True)
        assert set(ids(page)) <= set(best[:8])  # the nearest items (float32 ties may swap neighbours)
        assert all(e["explanation"]["summary"] == f"Similar to {name!r}." for e in page["data"])
        assert all(e["explanation"]["source"] == "item_similarity" for e in page["data"])
    category, trending = pages[-2], pages[-1]
    assert (
        category["section"]["type"] == "popular_in_category"
        and category["section"]["title"] == "Popular in electronics"
    )
    electronics = {i for i in ITEMS if ITEMS[i]["category"] == "electronics"}
    assert ids(category) == [i for i in trending_order(banned) if i in electronics][:4]
    assert category["data"][0]["explanation"]["summary"] == "Popular in electronics."
    assert trending["section"] == {
        "key": "trending",
        "type": "trending",
        "title": "Trending now",
        "anchor_item_id": None,
        "category": None,
    }
    assert ids(trending) == trending_order(banned)[:4]
    assert all(page["mode"] == "auto" and page["limit"] == 4 for page in pages)
    for page in pages:  # each section is logged as its own decision
        decision = decision_store().get(TENANT, page["request_id"])
        assert decision["items"] == ids(page) and decision["context"]["section"] == page["section"]["key"]
        assert decision["context"]["mode"] == "auto" and decision["user_id"] == "usr_3"


def test_window_candidate_limit_and_served_cap(store: TestClient, auth: Auth) -> None:
    headers = auth(TENANT)
    anchors = [item for item, _ in recent("usr_4")]
    two_days = [item for item, _ in recent("usr_4", days=2)]
    assert len(anchors) == 3 and two_days == anchors[:1]
    keys = [p["section"]["key"] for p in feed(store, headers, user_id="usr_4", window_days=2, limit=2)]
    assert keys == [f"because:{two_days[0]}", "category:books", "trending"]
    # Older events are no anchors: with a one-day window the user has none, and gets trending first.
    only = feed(store, headers, user_id="usr_4", window_days=1, limit=3)
    assert [p["section"]["key"] for p in only] == ["trending"] and only[0]["done"] is True
    assert ids(only[0]) == trending_order(set())[:3]
    longer = [p["section"]["key"] for p in feed(store, headers, user_id="usr_4", window_days=90, limit=2)]
    assert longer[:10] == [f"because:{e['item_id']}" for e in _by_time("usr_4")] and longer[-2:] == [
        "category:books",
        "trending",
    ]
    for limit in (1, 2):
        keys = [p["section"]["key"] for p in feed(store, headers, user_id="usr_4", candidate_limit=limit)]
        assert keys == [f"because:{item}" for item in anchors[:limit]] + ["category:books", "trending"]
    # served_cap bounds the cursor, never the feed: no section comes back.
    everything = [p["section"]["key"] for p in feed(store, headers, user_id="usr_4", window_days=90, limit=2)]
    for cap in (1, 3):
        pages = feed(store, headers, user_id="usr_4", window_days=90, limit=2, served_cap=cap)
        assert [p["section"]["key"] for p in pages] == everything, cap
        for page in pages[:-1]:
            cursor = decode_list_cursor(page["next_cursor"], "cursor")
            assert isinstance(cursor, AutoCursor) and 1 <= len(cursor.served) <= cap
            assert cursor.served[-1] == page["section"]["key"]


def _by_time(user: str) -> list[dict[str, Any]]:
    events = [e for e in store_events() if e["user_id"] == user]
    return sorted(events, key=lambda e: e["timestamp"], reverse=True)


def test_sections_nothing_fits_are_skipped_and_strangers_get_trending(store: TestClient, auth: Auth) -> None:
    headers = auth(TENANT)
    anchors = [item for item, _ in recent("usr_3")]
    # usr_3's anchors are electronics: with a books filter, the electronics section has nothing to show.
    pages = feed(store, headers, user_id="usr_3", filter="category:books", limit=3)
    assert [p["section"]["key"] for p in pages] == [f"because:{a}" for a in anchors] + ["trending"]
    assert all(ITEMS[i]["category"] == "books" for p in pages for i in ids(p))
    stranger = feed(store, headers, user_id="nobody", limit=5)
    assert len(stranger) == 1 and stranger[0]["section"]["key"] == "trending" and stranger[0]["next_cursor"] is None
    assert ids(stranger[0]) == trending_order(set())[:5]
    assert stranger[0]["user_segments"] == ["new_visitor"]
    # Everything filtered out: an empty, finished feed.
    empty = get(store, headers, user_id="usr_3", filter="category:books", **{"filters": "category:garden"})
    assert (empty["data"], empty["section"], empty["done"], empty["next_cursor"]) == ([], None, True, None)


def test_auto_mode_refusals(store: TestClient, auth: Auth) -> None:
    headers = auth(TENANT)

    def refused(parameter: str, **params: Any) -> Any:
        response = store.get("/v1/recommendations", params=params, headers=headers)
        body = response.json()
        assert response.status_code == 400, (params, body)
        assert body["data"]["parameter"] == parameter, body
        return body

    refused("mode", mode="auto", entity_type="Item", item_id="itm_3")
    single = store.get("/v1/recommendations", params={"user_id": "usr_3", "limit": 2}, headers=headers).json()
    assert "mode=single" in refused("cursor", mode="auto", user_id="usr_3", cursor=single["next_cursor"])["detail"]
    auto = get(store, headers, user_id="usr_3", limit=2)
    assert "mode=auto" in refused("cursor", user_id="usr_3", cursor=auto["next_cursor"])["detail"]
    refused("starting_after", mode="auto", user_id="usr_3", starting_after=single["next_cursor"])
    refused("starting_after", mode="auto", user_id="usr_3", starting_after="rec_itm_0")
    for other in (
        {"user_id": "usr_4"},
        {"user_id": "usr_3", "window_days": 30},
        {"user_id": "usr_3", "filter": "tags:new"},
    ):
        body = refused("cursor", mode="auto", cursor=auto["next_cursor"], **other)
        assert body["code"] == "MALFORMED_CURSOR" and "another list" in body["detail"]
    for garbled in ("au_", "au_!!", auto["next_cursor"][:-4], "pg_" + auto["next_cursor"][3:], "cursor"):
        assert refused("cursor", mode="auto", user_id="usr_3", cursor=garbled)["code"] == "MALFORMED_CURSOR"
    for name, bad in (("window_days", 0), ("window_days", 731), ("candidate_limit", 0), ("served_cap", 101)):
        response = store.get("/v1/recommendations", params={"mode": "auto", name: bad}, headers=headers)
        assert response.status_code == 400 and name in response.json()["detail"], (name, bad)
    for bad in ("AUTO", "", "both"):
        response = store.get("/v1/recommendations", params={"mode": bad}, headers=headers)
        assert response.status_code == 400 and "mode" in response.json()["detail"]


def test_one_call_probes_a_bounded_number_of_empty_sections(
    store: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filter nothing passes: the call ends the feed after MAX_EMPTY_SECTIONS probes plus trending."""
    import reco.lists.service as list_service

    calls: list[int] = []
    real = list_service.rank_plan

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    headers = auth(TENANT, "backend")
    at = NOW.isoformat().replace("+00:00", "Z")
    views = [{"user_id": "usr_1", "item_id": f"itm_{i}", "type": "view", "timestamp": at} for i in range(40)]
    assert store.post("/v1/events", json={"events": views}, headers=headers).json()["accepted"] == 40
    monkeypatch.setattr(list_service, "rank_plan", counting)
    body = get(store, headers, user_id="usr_1", window_days=730, candidate_limit=500, filter="price>1000000")
    assert (body["data"], body["section"], body["done"]) == ([], None, True)
    assert len(calls) == list_service.MAX_EMPTY_SECTIONS + 1
