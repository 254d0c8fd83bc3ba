"""Tenant isolation cases for GET /v1/recommendations and the contexts it reads."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from reco.stores.decisions import decision_store
from tests.shop import load_shop

Auth = Callable[..., dict[str, str]]
CONTEXT = {"name": "A's home", "filters": ["genre:rock"], "group_by": "genre"}


def contexts_isolation(client: TestClient, auth: Auth) -> None:
    """B can neither read, list, overwrite nor delete A's context 7; its own context 7 is its own."""
    assert client.put("/v1/contexts/7", json=CONTEXT, headers=auth("tenant-a", "manager")).status_code == 200
    assert client.get("/v1/contexts/7", headers=auth("tenant-b", "manager")).status_code == 404
    assert client.delete("/v1/contexts/7", headers=auth("tenant-b", "manager")).status_code == 404
    assert client.get("/v1/contexts", headers=auth("tenant-b", "manager")).json()["data"] == []
    other = {"name": "B's home"}
    assert client.put("/v1/contexts/ctx_7", json=other, headers=auth("tenant-b", "manager")).status_code == 200
    a = client.get("/v1/contexts/7", headers=auth("tenant-a", "manager")).json()
    assert (a["name"], a["filters"], a["group_by"]) == ("A's home", ["genre:rock"], "genre")
    assert [c["name"] for c in client.get("/v1/contexts", headers=auth("tenant-a", "manager")).json()["data"]] == [
        "A's home"
    ]


def recommendations_isolation(client: TestClient, auth: Auth) -> None:
    """B sees neither A's model, nor A's context, nor A's decisions; a cursor of A's is refused for B."""
    load_shop("tenant-a")
    assert client.put("/v1/contexts/7", json=CONTEXT, headers=auth("tenant-a", "manager")).status_code == 200
    headers_a = {**auth("tenant-a", "read"), "X-Request-Id": "iso-list-a"}
    as_a = client.get("/v1/recommendations", params={"user_id": "u1", "limit": 3}, headers=headers_a)
    assert as_a.status_code == 200 and as_a.json()["data"]
    assert decision_store().get("tenant-a", "iso-list-a") is not None
    assert decision_store().get("tenant-b", "iso-list-a") is None
    as_b = client.get("/v1/recommendations", params={"user_id": "u1"}, headers=auth("tenant-b", "read"))
    assert as_b.status_code == 503  # B has no model: A's is not used
    with_context = client.get("/v1/recommendations", params={"context_id": "7"}, headers=auth("tenant-b", "read"))
    assert with_context.status_code == 404
    load_shop("tenant-b")
    cursor = as_a.json()["next_cursor"]
    replay = client.get(
        "/v1/recommendations", params={"user_id": "u1", "limit": 3, "starting_after": cursor}, headers=auth("tenant-b")
    )
    assert replay.status_code == 400


LISTS_CASES: dict[tuple[str, str], Callable[[TestClient, Auth], None]] = {
    ("GET", "/v1/recommendations"): recommendations_isolation,
    ("PUT", "/v1/contexts/{context_id}"): contexts_isolation,
    ("GET", "/v1/contexts/{context_id}"): contexts_isolation,
    ("DELETE", "/v1/contexts/{context_id}"): contexts_isolation,
    ("GET", "/v1/contexts"): contexts_isolation,
}
