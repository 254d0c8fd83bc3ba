"""POST /v1/chat's contract over a small shop: validation (422), authentication, ids the server has not
seen and expired conversations (a new one under the id), another subject's conversation (404), long
conversations (409) and how the stored rows expire."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from local.tokens import issue_token
from reco.chat.conversations import MAX_TURNS, Conversation, Turn
from reco.schemas.chat import MAX_MESSAGE_CHARS
from reco.settings import get_settings
from reco.stores.aws import tenant_key
from reco.stores.conversations import ConversationStore, conversation_store

TENANT = "demo"
DAY = 86_400


@pytest.fixture(scope="module")
def client(shop_client: TestClient) -> TestClient:
    return shop_client


SHOPPER = "local-user"  # the sub claim of local tokens


def headers(tenant: str = TENANT, *roles: str, subject: str = SHOPPER) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(tenant, list(roles) or ['frontend'], subject=subject)}"}


def post(client: TestClient, body: dict[str, Any], tenant: str = TENANT, *roles: str, subject: str = SHOPPER) -> Any:
    return client.post("/v1/chat", json=body, headers=headers(tenant, *roles, subject=subject))


def table() -> Any:
    return boto3.resource("dynamodb").Table(get_settings().conversations_table)


def rows(conversation_id: str) -> dict[str, dict[str, Any]]:
    key = tenant_key(TENANT, conversation_id)
    found = table().query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": key})["Items"]
    return {str(row["sk"]): row for row in found}


def expire(conversation_id: str, sk: str, at: float) -> None:
    key = {"pk": tenant_key(TENANT, conversation_id), "sk": sk}
    table().update_item(Key=key, UpdateExpression="SET expires_at = :at", ExpressionAttributeValues={":at": int(at)})


def stored_conversation(turns: int) -> str:
    """A conversation of ``turns`` turns written straight through the store, started by SHOPPER."""
    conversation = Conversation(str(uuid.uuid4()), "u1", None, datetime.now(UTC), subject=SHOPPER)
    store = conversation_store()
    for number in range(1, turns + 1):
        turn = Turn(number, f"message {number}", "reply.", {"text": "rock"}, [], [], datetime.now(UTC))
        assert store.append(TENANT, conversation, turn)
        conversation = replace(conversation, turns=[*conversation.turns, turn])
    return conversation.conversation_id


# 200


def test_a_turn_has_the_reference_shape_and_four_items_by_default(client: TestClient) -> None:
    response = post(client, {"message": "rock records please"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"conversation_id", "message", "items"} and len(answer["items"]) == 4
    first = answer["items"][0]
    assert set(first) == {"item_id", "title", "status", "description", "price"}
    assert first["title"].startswith("Rock record ") and first["description"] is None
    assert first["title"] in answer["message"]
    assert [i["status"] for i in answer["items"]] == ["active"] * 4  # out-of-stock records come last


@pytest.mark.parametrize("limit", [1, 20])
def test_limit_accepts_1_to_20(client: TestClient, limit: int) -> None:
    response = post(client, {"message": "records", "limit": limit})
    assert response.status_code == 200 and len(response.json()["items"]) == limit


def test_a_message_of_2000_characters_is_accepted(client: TestClient) -> None:
    message = ("jazz " * 400)[:MAX_MESSAGE_CHARS]
    assert len(message) == 2000
    assert post(client, {"message": message}).status_code == 200


def test_out_of_stock_items_say_so_and_come_last(client: TestClient) -> None:
    answer = post(client, {"message": "rock records", "limit": 20}).json()
    statuses = [item["status"] for item in answer["items"]]
    # tests.shop: every fifth record (i0, i5, …) is not in stock; 15 rock records, 3 of them out of stock
    assert statuses == ["active"] * 12 + ["out_of_stock"] * 3
    assert {i["item_id"] for i in answer["items"] if i["status"] == "out_of_stock"} == {"i0", "i20", "i40"}


# 422


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"message": "records", "limit": 0}, ["body", "limit"]),
        ({"message": "records", "limit": 21}, ["body", "limit"]),
        ({"message": ""}, ["body", "message"]),
        ({"message": "  \n\t "}, ["body", "message"]),
        ({"message": "x" * (MAX_MESSAGE_CHARS + 1)}, ["body", "message"]),
        ({"message": 5}, ["body", "message"]),
        ({}, ["body", "message"]),
        ({"message": "records", "colour": "red"}, ["body", "colour"]),
        ({"message": "records", "conversation_id": "not an id!"}, ["body", "conversation_id"]),
        (
            {"message": "records", "events": [{"timestamp": "14/06/2024", "type": "browse"}]},
            ["body", "events", 0, "timestamp"],
        ),
        ({"message": "records", "events": [{"type": "browse"}]}, ["body", "events", 0, "timestamp"]),
        (
            {"message": "records", "events": [{"timestamp": "2024-06-14T10:00:00Z", "type": "view", "x": 1}]},
            ["body", "events", 0, "x"],
        ),
        (
            {"message": "records", "events": [{"timestamp": "2024-06-14T10:00:00Z", "type": "view"}] * 101},
            ["body", "events"],
        ),
    ],
)
def test_invalid_requests_are_422_http_validation_errors(client: TestClient, body: dict[str, Any], loc: list) -> None:
    response = post(client, body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    assert all({"loc", "msg", "type"} <= set(error) for error in detail)
    assert loc in [error["loc"] for error in detail]


# 401, 404, 409


def test_without_a_token_it_is_401(client: TestClient) -> None:
    assert client.post("/v1/chat", json={"message": "records"}).status_code == 401
    forged = {"Authorization": "Bearer not-a-token"}
    assert client.post("/v1/chat", json={"message": "records"}, headers=forged).status_code == 401


def test_an_expired_conversation_id_starts_a_new_conversation(client: TestClient) -> None:
    conversation_id = stored_conversation(2)
    assert post(client, {"message": "jazz", "conversation_id": conversation_id}).status_code == 200
    for sk in rows(conversation_id):  # DynamoDB deletes expired rows late (moto never): readers skip them
        expire(conversation_id, sk, time.time() - 1)
    response = post(client, {"message": "folk", "conversation_id": conversation_id})
    assert response.status_code == 200, response.text  # not a 409 on the expired turn 1 still in the table
    assert response.json()["conversation_id"] == conversation_id
    stored = conversation_store().get(TENANT, conversation_id)
    assert stored is not None and [(t.number, t.message) for t in stored.turns] == [(1, "folk")]
    assert sorted(rows(conversation_id)) == ["meta", "turn#000001", "turn#000002", "turn#000003"]  # 2, 3 expired


def test_every_turn_keeps_the_earlier_turns_alive(client: TestClient) -> None:
    conversation_id = stored_conversation(2)
    expire(conversation_id, "turn#000001", time.time() + 60)  # about to expire
    assert post(client, {"message": "pop", "conversation_id": conversation_id}).status_code == 200
    found = rows(conversation_id)
    assert sorted(found) == ["meta", "turn#000001", "turn#000002", "turn#000003"]
    ttl = get_settings().conversation_ttl_days * DAY
    assert {int(row["expires_at"]) for row in found.values()} >= {int(found["meta"]["expires_at"])}
    assert all(int(row["expires_at"]) >= time.time() + ttl - 60 for row in found.values())


def test_a_conversation_whose_oldest_turns_expired_goes_on(client: TestClient) -> None:
    conversation_id = stored_conversation(2)
    expire(conversation_id, "turn#000001", time.time() - 1)
    response = post(client, {"message": "jazz records", "conversation_id": conversation_id})
    assert response.status_code == 200, response.text  # not a 409 on turn number 2 again
    stored = conversation_store().get(TENANT, conversation_id)
    assert stored is not None and [t.number for t in stored.turns] == [2, 3]
    assert stored.turns[-1].message == "jazz records"


def test_a_conversation_of_50_turns_is_409(client: TestClient) -> None:
    conversation_id = stored_conversation(MAX_TURNS)
    response = post(client, {"message": "records", "conversation_id": conversation_id})
    assert response.status_code == 409 and response.json()["code"] == "CONFLICT"
    assert len(rows(conversation_id)) == MAX_TURNS + 1  # nothing written


def test_a_turn_answered_meanwhile_is_409(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    conversation_id = stored_conversation(2)
    read = ConversationStore.get

    def stale(self: ConversationStore, tenant: str, conversation_id: str) -> Conversation | None:
        found = read(self, tenant, conversation_id)  # as read before turn 2 was stored by another request
        return replace(found, turns=found.turns[:1]) if found else None

    monkeypatch.setattr(ConversationStore, "get", stale)
    response = post(client, {"message": "records", "conversation_id": conversation_id})
    assert response.status_code == 409 and response.json()["data"] == {"conversation_id": conversation_id}
    monkeypatch.undo()
    stored = conversation_store().get(TENANT, conversation_id)
    assert stored is not None and [t.message for t in stored.turns] == ["message 1", "message 2"]
