"""Tenant isolation cases for the customer API: POST /api/recommend/recommend and GET /api/recommend/logs."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.customer.catalog import load_customer_shop

Auth = Callable[..., dict[str, str]]
A, B = "customer-a", "customer-b"  # tenants of their own: other cases put other models under tenant-a / tenant-b
BODY = {
    "sequence_data": {"browsing_history": ["product_101"], "secret": "customer-a only"},
    "task": "product_recommendation",
    "template": "similar",
    "limit": 1,
}
BODY_B = {**BODY, "sequence_data": {"browsing_history": ["product_101"], "secret": "customer-b"}}


def customer_isolation(client: TestClient, auth: Auth) -> None:
    """A's model and catalog never serve B; B never reads A's logs, not even with A's cursor."""
    load_customer_shop(A)
    headers = {**auth(A, "frontend"), "X-Request-Id": "iso-customer-a"}
    as_a = client.post("/api/recommend/recommend", json=BODY, headers=headers)
    assert as_a.status_code == 200 and isinstance(as_a.json()["results"][0]["recommendation_id"], str)
    as_b = client.post("/api/recommend/recommend", json=BODY_B, headers=auth(B, "frontend"))
    assert as_b.status_code == 503 and as_b.json()["code"] == "DATABASE_NOT_READY"  # B has no model of its own
    smuggled = client.post("/api/recommend/recommend", json={**BODY_B, "tenant": A}, headers=auth(B, "frontend"))
    assert smuggled.status_code == 400
    load_customer_shop(B, integer_ids=True)  # B's own catalog: ids 100 …, not product_100 …
    unknown = client.post("/api/recommend/recommend", json=BODY_B, headers=auth(B, "frontend"))
    assert unknown.status_code == 400 and "'product_101' is not in the catalog" in unknown.json()["detail"]
    trending = client.post("/api/recommend/recommend", json={**BODY_B, "template": "trending"}, headers=auth(B))
    assert isinstance(trending.json()["results"][0]["recommendation_id"], int)

    a_logs = client.get("/api/recommend/logs?limit=1", headers=auth(A, "manager")).json()
    assert a_logs["logs"][0]["request_id"] == "iso-customer-a" and a_logs["next_cursor"]
    b_logs = client.get("/api/recommend/logs", headers=auth(B, "manager")).json()
    assert b_logs["logs"] and all(row["request_id"] != "iso-customer-a" for row in b_logs["logs"])
    assert "customer-a only" not in str(b_logs)
    replayed = client.get("/api/recommend/logs", params={"cursor": a_logs["next_cursor"]}, headers=auth(B, "manager"))
    assert replayed.status_code == 200 and "customer-a only" not in replayed.text
    assert all(row["request_id"] != "iso-customer-a" for row in replayed.json()["logs"])


CUSTOMER_CASES: dict[tuple[str, str], Callable[[TestClient, Auth], None]] = {
    ("POST", "/api/recommend/recommend"): customer_isolation,
    ("GET", "/api/recommend/logs"): customer_isolation,
}
