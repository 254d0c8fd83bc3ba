"""Tenant isolation case for POST /v1/chat: conversations, models and decisions stay with their tenant."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from reco.stores.conversations import conversation_store
from reco.stores.decisions import decision_store
from tests.shop import load_shop

Auth = Callable[..., dict[str, str]]
A, B = "chat-a", "chat-b"


def chat_isolation(client: TestClient, auth: Auth) -> None:
    """B can neither continue nor change A's conversation, nor be served by A's model; its own stay its own."""
    load_shop(A)
    as_a = client.post(
        "/v1/chat", json={"message": "jazz records"}, headers={**auth(A, "frontend"), "X-Request-Id": "iso-chat"}
    )
    assert as_a.status_code == 200 and as_a.json()["items"]
    conversation_a = as_a.json()["conversation_id"]

    def continue_a(tenant: str) -> int:
        body = {"message": "cheaper", "conversation_id": conversation_a}
        return client.post("/v1/chat", json=body, headers=auth(tenant, "frontend")).status_code

    continued = client.post(
        "/v1/chat", json={"message": "cheaper", "conversation_id": conversation_a}, headers=auth(B, "frontend")
    )
    assert continued.status_code == 404 and continued.json()["code"] == "CONVERSATION_NOT_FOUND"
    fresh = client.post("/v1/chat", json={"message": "jazz records"}, headers=auth(B, "frontend"))
    assert fresh.status_code == 503  # B has no model of its own: A's is not used
    smuggled = client.post("/v1/chat", json={"message": "jazz", "tenant": A}, headers=auth(B, "frontend"))
    assert smuggled.status_code == 422

    load_shop(B)
    assert continue_a(B) == 404  # with a model of its own, still not A's conversation
    as_b = client.post(
        "/v1/chat", json={"message": "rock records"}, headers={**auth(B, "frontend"), "X-Request-Id": "iso-chat"}
    )
    assert as_b.status_code == 200
    conversation_b = as_b.json()["conversation_id"]
    to_b = client.post("/v1/chat", json={"message": "more", "conversation_id": conversation_b}, headers=auth(A))
    assert to_b.status_code == 404

    stored = conversation_store().get(A, conversation_a)
    assert stored is not None and [t.message for t in stored.turns] == ["jazz records"]  # A's is as it was
    assert conversation_store().get(B, conversation_a) is None and conversation_store().get(A, conversation_b) is None
    a_decision, b_decision = decision_store().get(A, "iso-chat"), decision_store().get(B, "iso-chat")
    assert a_decision is not None and b_decision is not None  # one request id, one decision per tenant
    assert a_decision["context"]["conversation_id"] == conversation_a
    assert b_decision["context"]["conversation_id"] == conversation_b
    assert continue_a(A) == 200  # and A goes on


CHAT_CASES: dict[tuple[str, str], Callable[[TestClient, Auth], None]] = {("POST", "/v1/chat"): chat_isolation}
