"""A browser token sees why a list suits its own user, never another user's history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.lists.store import load_store

Auth = Callable[..., dict[str, str]]


def _list(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/v1/recommendations", params={"limit": 5, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def store(client: TestClient, auth: Auth) -> None:
    load_store("priv")
    context = {"name": "Home", "excluded_viewed_items": True}
    assert client.put("/v1/contexts/5", json=context, headers=auth("priv", "manager")).status_code == 200


@pytest.mark.parametrize("role", ["read", "frontend"])
def test_a_browser_token_asking_for_another_user_gets_no_history(
    client: TestClient, auth: Auth, store: None, role: str
) -> None:
    body = _list(client, auth("priv", role, subject="usr_1"), user_id="usr_0", context_id="5")
    assert body["data"], body
    assert all(d["explanation"]["anchor"] is None for d in body["data"])
    assert not any("Because you" in d["explanation"]["summary"] for d in body["data"])
    assert body["user_segments"] == []
    assert body["excluded_viewed_items"]["count"] is None
    assert all(r.get("count") is None for r in body["explanation"]["rules"] if r["type"] == "excluded_viewed_items")


@pytest.mark.parametrize(("role", "params"), [("read", {}), ("frontend", {"user_id": "usr_0"}), ("backend", {})])
def test_its_own_user_or_a_server_token_sees_the_history(
    client: TestClient, auth: Auth, store: None, role: str, params: dict[str, str]
) -> None:
    subject = "usr_0"
    if role == "backend":
        params, subject = {"user_id": "usr_0"}, "billing-service"
    body = _list(client, auth("priv", role, subject=subject), context_id="5", **params)
    assert any(d["explanation"]["anchor"] is not None for d in body["data"])
    assert "vip" in body["user_segments"]  # usr_0's own segments property
    assert isinstance(body["excluded_viewed_items"]["count"], int) and body["excluded_viewed_items"]["count"] > 0


def test_a_query_request_id_is_echoed_even_when_validation_fails(client: TestClient, auth: Auth) -> None:
    response = client.get(
        "/v1/recommendations", params={"limit": "x", "requestId": "q-3"}, headers=auth("acme", "read")
    )
    assert response.status_code == 400
    assert response.json()["request_id"] == "q-3" and response.headers["x-request-id"] == "q-3"
