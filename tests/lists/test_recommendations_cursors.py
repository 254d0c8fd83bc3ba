"""Paging GET /v1/recommendations: next_cursor, rec_<item_id> and raw item ids, refusals, a frozen history."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.lists.store import N_ITEMS, load_store, store_items

Auth = Callable[..., dict[str, str]]
TENANT = "cursors"
ITEMS = {item["id"]: item["properties"] for item in store_items()}


@pytest.fixture
def store(client: TestClient) -> TestClient:
    load_store(TENANT)
    return client


def get(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get("/v1/recommendations", params=params, headers=headers)
    assert response.status_code == 200, (params, response.json())
    return response.json()


def refused(client: TestClient, headers: dict[str, str], parameter: str, **params: Any) -> Any:
    response = client.get("/v1/recommendations", params=params, headers=headers)
    body = response.json()
    assert response.status_code == 400, (params, body)
    assert body["data"]["parameter"] == parameter and parameter in body["detail"], body
    return body


def ids(body: Any) -> list[str]:
    return [entry["item_id"] for entry in body["data"]]


def walk(
    client: TestClient, headers: dict[str, str], after: Callable[[Any], str], sizes: list[int], **params: Any
) -> list[Any]:
    """Every page, the next one starting after ``after(previous page)``; page k has ``sizes[k % len]`` items."""
    pages = [get(client, headers, limit=sizes[0], **params)]
    while pages[-1]["has_more"]:
        assert len(pages) < 100, "the pages never end"
        size = sizes[len(pages) % len(sizes)]
        pages.append(get(client, headers, limit=size, starting_after=after(pages[-1]), **params))
    assert pages[-1]["next_cursor"] is None
    return pages


def check_pages(pages: list[Any], full: list[str], sizes: list[int]) -> None:
    walked = [item for page in pages for item in ids(page)]
    assert walked == full and len(set(walked)) == len(walked)  # no gap, no repeat, same order
    ranks = [entry["rank"] for page in pages for entry in page["data"]]
    assert ranks == list(range(1, len(full) + 1))
    for k, page in enumerate(pages[:-1]):
        assert len(page["data"]) == sizes[k % len(sizes)] and page["has_more"] is True
        assert page["next_cursor"].startswith("pg_")


@pytest.mark.parametrize("sizes", [[7], [13, 3, 25]])
def test_pages_walk_the_whole_list_in_order(store: TestClient, auth: Auth, sizes: list[int]) -> None:
    headers = auth(TENANT)
    whole = get(store, headers, user_id="usr_3", limit=100)
    full = ids(whole)
    assert len(full) == N_ITEMS and whole["has_more"] is False
    for after in (
        lambda page: page["next_cursor"],
        lambda page: page["data"][-1]["id"],  # rec_<item_id>
        lambda page: page["data"][-1]["item_id"],  # the raw item id
    ):
        check_pages(walk(store, headers, after, sizes, user_id="usr_3"), full, sizes)
    # With filters and a context, the cursor pages the filtered list.
    context = {"name": "c", "filters": ["in_stock:true"]}
    assert store.put("/v1/contexts/8", json=context, headers=auth(TENANT, "root")).status_code == 200
    filtered = ids(get(store, headers, user_id="usr_3", limit=100, context_id="8", filter="OR:brand:Acme|Nova"))
    assert filtered == [i for i in full if ITEMS[i]["in_stock"] and ITEMS[i]["brand"] in ("Acme", "Nova")]
    pages = walk(
        store, headers, lambda p: p["next_cursor"], sizes, user_id="usr_3", context_id="8", filter="OR:brand:Acme|Nova"
    )
    check_pages(pages, filtered, sizes)


def test_a_cursor_only_pages_the_list_it_came_from(store: TestClient, auth: Auth) -> None:
    headers = auth(TENANT)
    assert store.put("/v1/contexts/9", json={"name": "c"}, headers=auth(TENANT, "manager")).status_code == 200
    first = get(store, headers, user_id="usr_3", limit=5, filter="price>20")
    cursor = first["next_cursor"]
    again = get(store, headers, user_id="usr_3", limit=5, filter="price>20", starting_after=cursor)
    assert again["data"][0]["rank"] == 6
    for other in (
        {"user_id": "usr_4", "filter": "price>20"},
        {"user_id": "usr_3", "filter": "price>21"},
        {"user_id": "usr_3"},
        {"user_id": "usr_3", "filter": "price>20", "context_id": "9"},
        {"user_id": "usr_3", "filter": "price>20", "name": "lamp"},
        {"entity_type": "Item", "item_id": "itm_1", "filter": "price>20"},
    ):
        body = refused(store, headers, "starting_after", starting_after=cursor, **other)
        assert body["code"] == "MALFORMED_CURSOR" and "another list" in body["detail"]
    # Refused too as the auto-mode cursor parameter.
    refused(store, headers, "cursor", user_id="usr_3", filter="price>20", mode="auto", cursor=cursor)


def _forge(payload: Any) -> str:
    return "pg_" + base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_garbled_cursors_and_foreign_items_are_400(store: TestClient, auth: Auth) -> None:
    headers = auth(TENANT)
    first = get(store, headers, user_id="usr_3", limit=5, filter="category:books")
    cursor = first["next_cursor"]
    offset, millis, digest = json.loads(base64.urlsafe_b64decode(cursor[3:] + "=" * (-len(cursor[3:]) % 4)))
    assert (offset, digest) == (5, digest) and isinstance(millis, int)
    for garbled in (
        cursor[:-3],
        cursor + "x",
        "pg_",
        "pg_!!!",
        "pg_" + "A" * 5000,
        _forge([-1, millis, digest]),
        _forge([True, millis, digest]),
        _forge(["5", millis, digest]),
        _forge([5, "now", digest]),
        _forge([5, millis]),
        _forge([5, 10**30, digest]),
        _forge({"offset": 5}),
    ):
        body = refused(
            store, headers, "starting_after", user_id="usr_3", filter="category:books", starting_after=garbled
        )
        assert body["code"] == "MALFORMED_CURSOR", garbled
    # A forged offset on the right list is only an offset.
    far = get(store, headers, user_id="usr_3", filter="category:books", starting_after=_forge([18, millis, digest]))
    assert ids(far) == ids(get(store, headers, user_id="usr_3", filter="category:books", limit=100))[18:]
    beyond = get(store, headers, user_id="usr_3", filter="category:books", starting_after=_forge([500, millis, digest]))
    assert beyond["data"] == [] and beyond["has_more"] is False
    electronics = next(i for i in ITEMS if ITEMS[i]["category"] == "electronics")
    for foreign in (f"rec_{electronics}", electronics, "rec_itm_999", "itm_999", "rec_", "au_xyz", "é" * 10):
        body = refused(
            store, headers, "starting_after", user_id="usr_3", filter="category:books", starting_after=foreign
        )
        assert body["code"] == "WRONG_PARAMETER" and "not an item of this list" in body["detail"], foreign
    long = refused(store, headers, "starting_after", user_id="usr_3", starting_after="z" * 5000)
    assert len(long["detail"]) < 400  # the id is not echoed whole


def test_events_between_pages_do_not_shift_a_cursor(store: TestClient, auth: Auth) -> None:
    headers = auth(TENANT)
    before = ids(get(store, headers, user_id="usr_3", limit=100))
    first = get(store, headers, user_id="usr_3", limit=10)
    assert ids(first) == before[:10]
    # usr_3 likes electronics; a burst of garden purchases changes their list at once...
    garden = [i for i in ITEMS if ITEMS[i]["category"] == "garden"][:8]
    events = [{"user_id": "usr_3", "item_id": item, "type": "purchase"} for item in garden]
    posted = store.post("/v1/events", json={"events": events}, headers=auth(TENANT, "backend"))
    assert posted.status_code == 200 and posted.json()["accepted"] == len(events), posted.json()
    after = ids(get(store, headers, user_id="usr_3", limit=100))
    assert after[10:20] != before[10:20] and after[20:30] != before[20:30]
    # ...but not the pages of a list already being read: they keep the first page's history.
    second = get(store, headers, user_id="usr_3", limit=10, starting_after=first["next_cursor"])
    third = get(store, headers, user_id="usr_3", limit=10, starting_after=second["next_cursor"])
    assert ids(second) == before[10:20] and ids(third) == before[20:30]
    assert second["user_segments"] == third["user_segments"] == first["user_segments"]
