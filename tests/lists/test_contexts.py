"""/v1/contexts: the CRUD round trip, who may use it, invalid bodies, and what a context does to a list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.lists.store import NOW, load_store, store_events, store_items

Auth = Callable[..., dict[str, str]]
TENANT = "contexts"
ITEMS = {item["id"]: item["properties"] for item in store_items()}
FULL = {
    "name": "Product page",
    "description": "Below the buy button",
    "entity_type": "User",
    "scenario": None,
    "filters": ["type!=comment", {"column": "price", "operator": "lt", "value": 400, "logic": "AND"}],
    "group_by": None,
    "group_size": 4,
    "excluded_viewed_items": {"enabled": True, "interaction_types": ["view", "click"], "window_days": 30},
    "limit": 12,
}


def get(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get("/v1/recommendations", params=params, headers=headers)
    assert response.status_code == 200, (params, response.json())
    return response.json()


def put(client: TestClient, headers: dict[str, str], context_id: str, body: Any) -> Any:
    response = client.put(f"/v1/contexts/{context_id}", json=body, headers=headers)
    assert response.status_code == 200, response.json()
    return response.json()


def test_put_get_list_delete_round_trip(client: TestClient, auth: Auth) -> None:
    headers = auth(TENANT, "manager")
    written = put(client, headers, "101", FULL)
    assert written == {
        **FULL,
        "object": "context",
        "id": "101",
        "created_at": written["created_at"],
        "updated_at": written["created_at"],
        "warnings": [],
    }
    assert datetime.fromisoformat(written["created_at"].replace("Z", "+00:00")) >= NOW
    stored = {k: v for k, v in written.items() if k != "warnings"}
    for path in ("101", "ctx_101", "0101"):
        response = client.get(f"/v1/contexts/{path}", headers=headers)
        assert response.status_code == 200 and response.json() == stored, path
    # Replacing (through the legacy path) keeps created_at; true and false stand for the exclusion's forms.
    replaced = put(client, auth(TENANT, "root"), "ctx_101", {"name": "Renamed", "excluded_viewed_items": True})
    assert (replaced["created_at"], replaced["name"], replaced["filters"], replaced["limit"]) == (
        written["created_at"],
        "Renamed",
        [],
        None,
    )
    assert replaced["updated_at"] >= written["updated_at"]
    assert replaced["excluded_viewed_items"] == {"enabled": True, "interaction_types": ["view"], "window_days": None}
    off = put(client, headers, "9", {"name": "Nine", "excluded_viewed_items": False})
    assert off["excluded_viewed_items"]["enabled"] is False
    put(client, headers, "10", {"name": "Ten", "entity_type": "Item"})
    listed = client.get("/v1/contexts", headers=headers).json()
    assert [c["id"] for c in listed["data"]] == ["9", "10", "101"]  # numeric order
    assert listed["has_more"] is False and listed["next_cursor"] is None and listed["object"] == "list"
    assert listed["data"][2] == {k: v for k, v in replaced.items() if k != "warnings"}
    first = client.get("/v1/contexts", params={"limit": 2}, headers=headers).json()
    assert [c["id"] for c in first["data"]] == ["9", "10"] and first["has_more"] is True
    rest = client.get("/v1/contexts", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers).json()
    assert [c["id"] for c in rest["data"]] == ["101"] and rest["has_more"] is False
    garbled = client.get("/v1/contexts", params={"cursor": "garbage"}, headers=headers)
    assert garbled.status_code == 400 and garbled.json()["code"] == "MALFORMED_CURSOR"
    for bad in (0, 101, "x"):
        response = client.get("/v1/contexts", params={"limit": bad}, headers=headers)
        assert response.status_code == 400 and response.json()["code"] == "VALIDATION_FAILED"
    deleted = client.delete("/v1/contexts/ctx_101", headers=headers)
    assert deleted.status_code == 204 and deleted.content == b""
    for response in (
        client.get("/v1/contexts/101", headers=headers),
        client.delete("/v1/contexts/101", headers=headers),
    ):
        assert response.status_code == 404 and response.json()["code"] == "CONTEXT_NOT_FOUND"
        assert response.json()["data"] == {"context_id": "101"}
    assert [c["id"] for c in client.get("/v1/contexts", headers=headers).json()["data"]] == ["9", "10"]
    # Another tenant sees none of them.
    assert client.get("/v1/contexts", headers=auth("someone-else", "manager")).json()["data"] == []
    assert client.get("/v1/contexts/9", headers=auth("someone-else", "manager")).status_code == 404


def test_only_managers_and_root_may_use_contexts(client: TestClient, auth: Auth) -> None:
    put(client, auth(TENANT, "manager"), "7", {"name": "Seven"})
    for role in ("backend", "frontend", "read", "reader", "admin"):
        headers = auth(TENANT, role)
        for method, path, body in (
            ("PUT", "/v1/contexts/7", {"name": "x"}),
            ("GET", "/v1/contexts/7", None),
            ("GET", "/v1/contexts", None),
            ("DELETE", "/v1/contexts/7", None),
        ):
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (role, method, path)
            assert response.json()["code"] == "FORBIDDEN" and "manager" in response.json()["detail"]
    assert client.get("/v1/contexts/7", headers=auth(TENANT, "read", "manager")).json()["name"] == "Seven"
    assert client.get("/v1/contexts/7").status_code == 401
    assert client.put("/v1/contexts/7", json={"name": "x"}, headers={"Authorization": "Bearer nope"}).status_code == 401


INVALID: list[tuple[Any, str, str]] = [  # (body, code, words of the detail)
    ({"name": "x", "colour": "red"}, "VALIDATION_FAILED", "colour: Extra inputs are not permitted"),
    ({}, "VALIDATION_FAILED", "name: Field required"),
    ({"name": ""}, "VALIDATION_FAILED", "name"),
    ({"name": 5}, "VALIDATION_FAILED", "name"),
    ({"name": "x" * 129}, "VALIDATION_FAILED", "name"),
    ({"name": "x", "entity_type": "Thing"}, "VALIDATION_FAILED", "entity_type"),
    ({"name": "x", "scenario": "bad name!"}, "VALIDATION_FAILED", "scenario"),
    ({"name": "x", "filters": "category:books"}, "VALIDATION_FAILED", "filters"),
    ({"name": "x", "filters": ["ok:1"] * 21}, "VALIDATION_FAILED", "filters"),
    ({"name": "x", "filters": [5]}, "VALIDATION_FAILED", "filters"),
    ({"name": "x", "filters": ["brand"]}, "MALFORMED_FILTER", "context filter 'brand': no operator"),
    ({"name": "x", "filters": ["brand:a||b"]}, "MALFORMED_FILTER", "empty alternative"),
    ({"name": "x", "filters": [{"column": "brand", "operator": "like", "value": "a"}]}, "MALFORMED_FILTER", "like"),
    ({"name": "x", "filters": [{"column": "brand", "operator": "eq"}]}, "MALFORMED_FILTER", "missing 'value'"),
    ({"name": "x", "group_by": "a b"}, "VALIDATION_FAILED", "group_by"),
    ({"name": "x", "group_by": ""}, "VALIDATION_FAILED", "group_by"),
    ({"name": "x", "group_by": "p" * 65}, "VALIDATION_FAILED", "group_by"),
    ({"name": "x", "group_size": 0}, "VALIDATION_FAILED", "group_size"),
    ({"name": "x", "group_size": 21}, "VALIDATION_FAILED", "group_size"),
    ({"name": "x", "limit": 0}, "VALIDATION_FAILED", "limit"),
    ({"name": "x", "limit": 101}, "VALIDATION_FAILED", "limit"),
    ({"name": "x", "limit": "5"}, "VALIDATION_FAILED", "limit"),
    ({"name": "x", "excluded_viewed_items": "yes"}, "VALIDATION_FAILED", "excluded_viewed_items"),
    ({"name": "x", "excluded_viewed_items": {"interaction_types": []}}, "VALIDATION_FAILED", "interaction_types"),
    ({"name": "x", "excluded_viewed_items": {"window_days": 0}}, "VALIDATION_FAILED", "window_days"),
    ({"name": "x", "excluded_viewed_items": {"why": 1}}, "VALIDATION_FAILED", "why"),
    ([{"name": "x"}], "VALIDATION_FAILED", "body"),
]


def test_invalid_bodies_and_ids_are_400(client: TestClient, auth: Auth) -> None:
    headers = auth(TENANT, "manager")
    for body, code, words in INVALID:
        response = client.put("/v1/contexts/5", json=body, headers=headers)
        assert response.status_code == 400, (body, response.json())
        error = response.json()
        assert error["code"] == code and words in error["detail"], (body, error)
        assert error["request_id"] == response.headers["x-request-id"]
        if code == "VALIDATION_FAILED":
            assert error["detail"].startswith("invalid request: ") and error["errors"][0]["loc"][0] == "body"
        else:
            assert error["data"]["parameter"] == "context"
    malformed = client.put(
        "/v1/contexts/5", content=b'{"name": ', headers={**headers, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.json()["code"] == "MALFORMED_JSON"
    for bad in ("abc", "ctx_", "ctx_ab", "1.5", "-1", "1" * 19, "x" * 33, "%20"):
        for method in ("PUT", "GET", "DELETE"):
            response = client.request(method, f"/v1/contexts/{bad}", json={"name": "x"}, headers=headers)
            assert response.status_code == 400 and "context_id" in response.json()["detail"], (method, bad)
    assert client.get("/v1/contexts", headers=headers).json()["data"] == []  # nothing was written


def test_a_missing_scenario_is_a_warning_until_it_exists(client: TestClient, auth: Auth) -> None:
    load_store(TENANT)
    headers = auth(TENANT, "manager")
    written = put(client, headers, "3", {"name": "Sale", "scenario": "sale"})
    assert written["warnings"] == [
        "scenario 'sale' (profile_to_items) does not exist yet: lists of this context run without it "
        "(with a warning) until it is created"
    ]
    body = get(client, headers, user_id="usr_1", context_id="3")  # without the scenario (test_context_scenarios)
    assert "scenario 'sale' (profile_to_items) not found" in body["explanation"]["warnings"][0]
    item_context = put(client, headers, "4", {"name": "Similar", "entity_type": "Item", "scenario": "sale"})
    assert "(item_to_items)" in item_context["warnings"][0]
    sale = {"scenario_type": "case", "case": {"filters": [{"property_name": "tags", "op": "eq", "value": "sale"}]}}
    assert client.put("/scenarios/profile_to_items/sale/", json=sale, headers=headers).status_code == 200
    assert put(client, headers, "3", {"name": "Sale", "scenario": "sale"})["warnings"] == []
    body = get(client, headers, user_id="usr_1", context_id="3", limit=100)
    assert {e["item_id"] for e in body["data"]} == {i for i in ITEMS if "sale" in ITEMS[i]["tags"]}
    assert body["data"][0]["explanation"]["context"] == {"context_id": "3", "name": "Sale", "scenario": "sale"}
    # An Item context lists an item's neighbours: it needs an item_id.
    response = client.get("/v1/recommendations", params={"context_id": "4"}, headers=headers)
    assert response.status_code == 400 and response.json()["data"]["parameter"] == "item_id"


def _seen(user: str, types: set[str], days: float | None = None) -> set[str]:
    seen = set()
    for event in store_events():
        at = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
        recent = days is None or (NOW - at).total_seconds() <= days * 86_400
        if event["user_id"] == user and event["type"] in types and recent:
            seen.add(event["item_id"])
    return seen


def test_context_filters_and_viewed_item_exclusion(client: TestClient, auth: Auth) -> None:
    load_store(TENANT)
    headers = auth(TENANT, "manager")
    everything = [e["item_id"] for e in get(client, headers, user_id="usr_2", limit=100)["data"]]
    assert get(client, headers, user_id="usr_2")["excluded_viewed_items"] is None
    for context_id, rule, excluded in (
        ("1", True, _seen("usr_2", {"view"})),
        ("2", {"window_days": 5}, _seen("usr_2", {"view"}, days=5)),
        ("3", {"interaction_types": ["view", "purchase"]}, _seen("usr_2", {"view", "purchase"})),
        ("4", False, set()),
    ):
        written = put(client, headers, context_id, {"name": "Unseen", "excluded_viewed_items": rule})
        body = get(client, headers, user_id="usr_2", context_id=context_id, limit=100)
        assert [e["item_id"] for e in body["data"]] == [i for i in everything if i not in excluded], context_id
        if rule is False:
            assert body["excluded_viewed_items"] is None
            continue
        assert excluded and body["excluded_viewed_items"] == {
            **written["excluded_viewed_items"],
            "count": len(excluded),
        }
    assert len(_seen("usr_2", {"view"})) == 8 and len(_seen("usr_2", {"view"}, days=5)) == 3
    # Context filters (both forms) and the request's hold together.
    put(client, headers, "5", {"name": "Cheap books", "filters": ["category:books", FULL["filters"][1]]})
    body = get(client, headers, user_id="usr_2", context_id="5", filter="in_stock:true", limit=100)
    expected = [i for i in everything if ITEMS[i]["category"] == "books" and ITEMS[i]["price"] < 400]
    assert [e["item_id"] for e in body["data"]] == [i for i in expected if ITEMS[i]["in_stock"]]
    assert [r["source"] for r in body["explanation"]["rules"]] == ["context", "context", "filter"]
    # A context filter on a property no item has keeps no item (the reference's type!=comment keeps all).
    put(client, headers, "6", {"name": "Colour", "filters": ["colour:red"]})
    response = client.get("/v1/recommendations", params={"user_id": "usr_2", "context_id": "6"}, headers=headers)
    assert response.status_code == 200 and response.json()["data"] == []
    assert any("no item has the property 'colour'" in w for w in response.json()["explanation"]["warnings"])


def test_grouping_returns_groups_ordered_by_their_best_item(client: TestClient, auth: Auth) -> None:
    load_store(TENANT)
    headers = auth(TENANT, "manager")
    flat = get(client, headers, user_id="usr_5", limit=100)["data"]
    put(client, headers, "20", {"name": "By brand", "group_by": "brand", "group_size": 2, "limit": 2})
    pages = [get(client, headers, user_id="usr_5", context_id="20")]
    while pages[-1]["has_more"]:
        pages.append(get(client, headers, user_id="usr_5", context_id="20", starting_after=pages[-1]["next_cursor"]))
    groups = [group for page in pages for group in page["data"]]
    assert [len(page["data"]) for page in pages] == [2, 1] and pages[-1]["next_cursor"] is None
    firsts = list(dict.fromkeys(ITEMS[e["item_id"]]["brand"] for e in flat))  # brands by their best item
    assert [g["value"] for g in groups] == firsts and len(firsts) == 3
    for rank, group in enumerate(groups, start=1):
        members = [e for e in flat if ITEMS[e["item_id"]]["brand"] == group["value"]]
        assert (group["object"], group["id"], group["group_by"], group["rank"]) == (
            "recommendation_group",
            f"grp_{group['value']}",
            "brand",
            rank,
        )
        assert group["count"] == len(members) and group["score"] == members[0]["score"]
        assert [m["item_id"] for m in group["items"]] == [m["item_id"] for m in members[:2]]
        assert [m["rank"] for m in group["items"]] == [1, 2]
        assert all(m["object"] == "recommendation" for m in group["items"])
    assert pages[0]["recommendations"] == pages[0]["data"] and pages[0]["quantity"] == 2
    scores = [g["score"] for g in groups]
    assert scores == sorted(scores, reverse=True)
    # starting_after may name the last item or group of a page: the next page is the same.
    last = pages[0]["data"][-1]
    for after in (last["items"][-1]["id"], last["items"][-1]["item_id"], last["id"]):
        body = get(client, headers, user_id="usr_5", context_id="20", starting_after=after)
        assert body["data"] == pages[1]["data"], after
    for foreign in ("grp_Nobody", "rec_itm_999"):
        response = client.get(
            "/v1/recommendations",
            params={"user_id": "usr_5", "context_id": "20", "starting_after": foreign},
            headers=headers,
        )
        assert response.status_code == 400 and response.json()["data"]["parameter"] == "starting_after"
    # Grouped with filters; an unknown property is refused when the list is read.
    put(client, headers, "21", {"name": "Cat", "group_by": "category", "group_size": 3, "filters": ["in_stock:true"]})
    body = get(client, headers, user_id="usr_5", context_id="21")
    assert len(body["data"]) == 3 and body["has_more"] is False
    for group in body["data"]:
        assert all(ITEMS[m["item_id"]]["category"] == group["value"] for m in group["items"])
        assert all(ITEMS[m["item_id"]]["in_stock"] for m in group["items"]) and len(group["items"]) == 3
    for name, value_of in (("in_stock", lambda p: p["in_stock"]), ("tags", lambda p: (p["tags"] or [None])[0])):
        put(client, headers, "23", {"name": name, "group_by": name, "group_size": 20})
        body = get(client, headers, user_id="usr_5", context_id="23", limit=100)
        values = [g["value"] for g in body["data"]]
        assert len(values) == len(set(values)) and sum(g["count"] for g in body["data"]) == len(flat)
        for group in body["data"]:
            assert {value_of(ITEMS[m["item_id"]]) for m in group["items"]} == {group["value"]}, name
    put(client, headers, "22", {"name": "Bad", "group_by": "colour"})
    response = client.get("/v1/recommendations", params={"user_id": "usr_5", "context_id": "22"}, headers=headers)
    assert response.status_code == 400 and response.json()["data"]["parameter"] == "group_by"


def test_an_item_context_lists_neighbours(client: TestClient, auth: Auth) -> None:
    load_store(TENANT)
    headers = auth(TENANT, "manager")
    put(client, headers, "30", {"name": "Similar", "entity_type": "Item", "filters": ["category:books"], "limit": 4})
    body = get(client, headers, context_id="30", item_id="itm_0")
    assert len(body["data"]) == 4 and all(ITEMS[e["item_id"]]["category"] == "books" for e in body["data"])
    assert body["data"][0]["explanation"]["source"] == "item_similarity"
    assert body["data"][0]["explanation"]["pipeline"]["reco_type"] == "item_to_items"
    # The request's entity_type wins over the context's.
    user = get(client, headers, context_id="30", user_id="usr_1", entity_type="User")
    assert user["data"][0]["explanation"]["source"] == "user_profile"
