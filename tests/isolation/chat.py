"""Tenant isolation case for POST /v1/chat: conversations, models and decisions stay with their tenant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from reco.stores.conversations import conversation_store
from reco.stores.decisions import decision_store
from tests.shop import load_shop

Auth = Callable[..., dict[str, str]]
A, B = "chat-a", "chat-b"


def chat_isolation(client: TestClient, auth: Auth) -> None:
    """B can neither continue nor change A's conversation, nor be served by A's model; the same id in B is
    B's own conversation (ids are per tenant), which starts afresh and holds nothing of A's."""
    load_shop(A)
    as_a = client.post(
        "/v1/chat", json={"message": "jazz records"}, headers={**auth(A, "frontend"), "X-Request-Id": "iso-chat"}
    )
    assert as_a.status_code == 200 and as_a.json()["items"]
    conversation_a = as_a.json()["conversation_id"]

    def continue_a(tenant: str, *roles: str) -> Any:
        body = {"message": "cheaper", "conversation_id": conversation_a}
        return client.post("/v1/chat", json=body, headers=auth(tenant, *(roles or ("frontend",))))

    fresh = client.post("/v1/chat", json={"message": "jazz records"}, headers=auth(B, "frontend"))
    assert fresh.status_code == 503  # B has no model of its own: A's is not used
    assert continue_a(B).status_code == 503  # nor does A's id reach A's conversation
    smuggled = client.post("/v1/chat", json={"message": "jazz", "tenant": A}, headers=auth(B, "frontend"))
    assert smuggled.status_code == 422

    load_shop(B)
    # With a model of its own, A's id is a new conversation of B's: "cheaper" has no earlier turn to refine.
    in_b = continue_a(B, "backend")
    assert in_b.status_code == 200 and in_b.json()["conversation_id"] == conversation_a
    b_copy = conversation_store().get(B, conversation_a)
    assert b_copy is not None and [(t.number, t.message) for t in b_copy.turns] == [(1, "cheaper")]
    as_b = client.post(
        "/v1/chat", json={"message": "rock records"}, headers={**auth(B, "frontend"), "X-Request-Id": "iso-chat"}
    )
    assert as_b.status_code == 200
    conversation_b = as_b.json()["conversation_id"]

    stored = conversation_store().get(A, conversation_a)
    assert stored is not None and [t.message for t in stored.turns] == ["jazz records"]  # A's is as it was
    assert conversation_store().get(A, conversation_b) is None
    a_decision, b_decision = decision_store().get(A, "iso-chat"), decision_store().get(B, "iso-chat")
    assert a_decision is not None and b_decision is not None  # one request id, one decision per tenant
    assert a_decision["context"]["conversation_id"] == conversation_a
    assert b_decision["context"]["conversation_id"] == conversation_b
    assert continue_a(A).status_code == 200  # and A goes on
    stored = conversation_store().get(A, conversation_a)
    assert stored is not None and [t.message for t in stored.turns] == ["jazz records", "cheaper"]


CHAT_CASES: dict[tuple[str, str], Callable[[TestClient, Auth], None]] = {("POST", "/v1/chat"): chat_isolation}
