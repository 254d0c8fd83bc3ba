"""Tenant isolation cases for the catalog (items, users) and events routes."""

from __future__ import annotations

from collections.abc import Callable

import boto3
from fastapi.testclient import TestClient

from reco.stores.events import event_store

Auth = Callable[..., dict[str, str]]
A, B = "tenant-a", "tenant-b"


def partitions(table: str, sort_key: str) -> set[str]:
    """The partition keys of every row with ``sort_key`` (a direct look at what was stored where)."""
    rows = boto3.resource("dynamodb").Table(table).scan()["Items"]
    return {str(row["pk"]) for row in rows if row["sk"] == sort_key}


def put_items_isolation(client: TestClient, auth: Auth) -> None:
    """B writing A's item id creates B's own item; A's is untouched; the body cannot name a tenant."""
    for tenant in (A, B):
        body = {"items": [{"id": "iso-put", "properties": {"owner": tenant}}]}
        assert client.put("/v1/items", json=body, headers=auth(tenant)).json() == {"accepted": 1, "rejected": []}
    assert client.get("/v1/items/iso-put", headers=auth(A)).json()["properties"] == {"owner": A}
    assert client.get("/v1/items/iso-put", headers=auth(B)).json()["properties"] == {"owner": B}
    assert partitions("CatalogTable", "iso-put") == {f"{A}#item", f"{B}#item"}
    smuggled = {"items": [{"id": "iso-put", "properties": {"owner": "x"}}], "tenant": A}
    assert client.put("/v1/items", json=smuggled, headers=auth(B)).status_code == 422
    headers = {**auth(B), "X-Tenant": A}
    client.put("/v1/items", json={"items": [{"id": "iso-put", "properties": {"owner": "header"}}]}, headers=headers)
    assert client.get("/v1/items/iso-put", headers=auth(A)).json()["properties"] == {"owner": A}


def list_items_isolation(client: TestClient, auth: Auth) -> None:
    """B's list never shows A's items, and A's cursor is refused to B."""
    client.put("/v1/items", json={"items": [{"id": f"iso-list-{n}"} for n in range(3)]}, headers=auth(A))
    a_ids = [item["id"] for item in client.get("/v1/items", params={"limit": 100}, headers=auth(A)).json()["items"]]
    b_ids = [item["id"] for item in client.get("/v1/items", params={"limit": 100}, headers=auth(B)).json()["items"]]
    assert {"iso-list-0", "iso-list-1", "iso-list-2"} <= set(a_ids)
    assert not any(i.startswith("iso-list-") for i in b_ids)
    cursor = client.get("/v1/items", params={"limit": 1}, headers=auth(A)).json()["next_cursor"]
    stolen = client.get("/v1/items", params={"cursor": cursor}, headers=auth(B))
    assert stolen.status_code == 400 and stolen.json()["code"] == "MALFORMED_CURSOR"


def get_item_isolation(client: TestClient, auth: Auth) -> None:
    client.put("/v1/items", json={"items": [{"id": "iso-get", "properties": {"secret": 1}}]}, headers=auth(A))
    response = client.get("/v1/items/iso-get", headers=auth(B))
    assert response.status_code == 404 and response.json()["detail"] == "item not found: 'iso-get'"
    assert client.get("/v1/items/iso-get", headers=auth(A)).json()["properties"] == {"secret": 1}


def delete_item_isolation(client: TestClient, auth: Auth) -> None:
    """B cannot delete A's item: 404, and A's item is intact."""
    client.put("/v1/items", json={"items": [{"id": "iso-del", "properties": {"keep": True}}]}, headers=auth(A))
    response = client.delete("/v1/items/iso-del", headers=auth(B))
    assert response.status_code == 404 and response.json()["detail"] == "item not found: 'iso-del'"
    assert client.get("/v1/items/iso-del", headers=auth(A)).json()["properties"] == {"keep": True}


def put_users_isolation(client: TestClient, auth: Auth) -> None:
    for tenant in (A, B):
        body = {"users": [{"id": "iso-user", "properties": {"owner": tenant}}]}
        assert client.put("/v1/users", json=body, headers=auth(tenant)).json()["accepted"] == 1
    assert client.get("/v1/users/iso-user", headers=auth(A)).json()["properties"] == {"owner": A}
    assert client.get("/v1/users/iso-user", headers=auth(B)).json()["properties"] == {"owner": B}
    assert partitions("CatalogTable", "iso-user") == {f"{A}#user", f"{B}#user"}


def get_user_isolation(client: TestClient, auth: Auth) -> None:
    client.put("/v1/users", json={"users": [{"id": "iso-get-user"}]}, headers=auth(A))
    response = client.get("/v1/users/iso-get-user", headers=auth(B))
    assert response.status_code == 404 and response.json()["detail"] == "user not found: 'iso-get-user'"


def post_events_isolation(client: TestClient, auth: Auth) -> None:
    """Event ids are per tenant: B's event with A's id is B's own, not a duplicate of A's."""
    for tenant in (A, B):
        row = {"event_id": "iso-evt", "user_id": "iso-poster", "item_id": f"item-of-{tenant}", "type": "view"}
        response = client.post("/v1/events", json={"events": [row]}, headers=auth(tenant))
        assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    for tenant in (A, B):
        events = client.get("/v1/users/iso-poster/events", headers=auth(tenant)).json()["events"]
        assert [e["item_id"] for e in events] == [f"item-of-{tenant}"]
        assert [e.item_id for e in event_store().iter_events(tenant) if e.event_id == "iso-evt"] == [
            f"item-of-{tenant}"
        ]
    assert partitions("EventsTable", "-") >= {f"{A}#event#iso-evt", f"{B}#event#iso-evt"}


def user_events_isolation(client: TestClient, auth: Auth) -> None:
    rows = [{"user_id": "iso-reader", "item_id": f"i{n}", "type": "view"} for n in range(2)]
    client.post("/v1/events", json={"events": rows}, headers=auth(A))
    assert client.get("/v1/users/iso-reader/events", headers=auth(B)).json() == {"events": [], "next_cursor": None}
    cursor = client.get("/v1/users/iso-reader/events", params={"limit": 1}, headers=auth(A)).json()["next_cursor"]
    stolen = client.get("/v1/users/iso-reader/events", params={"cursor": cursor}, headers=auth(B))
    assert stolen.status_code == 400 and stolen.json()["code"] == "MALFORMED_CURSOR"


def session_events_isolation(client: TestClient, auth: Auth) -> None:
    rows = [{"session_id": "iso-session", "item_id": f"i{n}", "type": "view"} for n in range(2)]
    client.post("/v1/events", json={"events": rows}, headers=auth(A))
    assert client.get("/v1/sessions/iso-session/events", headers=auth(B)).json() == {"events": [], "next_cursor": None}
    cursor = client.get("/v1/sessions/iso-session/events", params={"limit": 1}, headers=auth(A)).json()["next_cursor"]
    stolen = client.get("/v1/sessions/iso-session/events", params={"cursor": cursor}, headers=auth(B))
    assert stolen.status_code == 400 and stolen.json()["code"] == "MALFORMED_CURSOR"


CATALOG_CASES: dict[tuple[str, str], Callable[[TestClient, Auth], None]] = {
    ("PUT", "/v1/items"): put_items_isolation,
    ("GET", "/v1/items"): list_items_isolation,
    ("GET", "/v1/items/{item_id}"): get_item_isolation,
    ("DELETE", "/v1/items/{item_id}"): delete_item_isolation,
    ("PUT", "/v1/users"): put_users_isolation,
    ("GET", "/v1/users/{user_id}"): get_user_isolation,
    ("POST", "/v1/events"): post_events_isolation,
    ("GET", "/v1/users/{user_id}/events"): user_events_isolation,
    ("GET", "/v1/sessions/{session_id}/events"): session_events_isolation,
}
