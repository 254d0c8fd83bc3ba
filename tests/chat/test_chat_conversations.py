"""POST /v1/chat's conversations as chat-api.txt's clients use them, and whose they are.

An id the server has not seen starts a conversation under it (the reference's own example sends one);
optional fields sent as ``null`` are absent; event timestamps may omit the zone (UTC) or the time. A
browser token (``frontend``) continues only the conversations its subject (``sub``) started: another
shopper's holds that shopper's context. Server-side tokens continue any of their tenant's.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from local.tokens import issue_token
from reco.schemas.chat import ChatEventIn
from reco.stores.conversations import conversation_store
from tests.http.test_gateway import signed, valid_claims

TENANT = "demo"
ALICE, BOB = "alice", "bob"  # two shoppers' browser tokens (their sub claims)
TIMESTAMP_RULE = (
    "Value error, timestamp must be an ISO 8601 date-time with a zone ('2024-06-14T10:00:00Z', "
    "'2024-06-14T12:00:00+02:00'), without one (read as UTC: '2024-06-14T10:00:00') or a date "
    "('2024-06-14', midnight UTC)"
)


@pytest.fixture(scope="module")
def client(shop_client: TestClient) -> TestClient:
    return shop_client


def post(client: TestClient, body: dict[str, Any], subject: str = ALICE, role: str = "frontend") -> Any:
    token = issue_token(TENANT, [role], subject=subject)
    return client.post("/v1/chat", json=body, headers={"Authorization": f"Bearer {token}"})


def turns(conversation_id: str) -> list[str]:
    stored = conversation_store().get(TENANT, conversation_id)
    return [t.message for t in stored.turns] if stored is not None else []


# Ids the caller chooses


def test_an_id_the_server_has_not_seen_starts_a_conversation_under_it(client: TestClient) -> None:
    conversation_id = f"cart-{uuid.uuid4()}"
    first = post(client, {"message": "jazz records", "conversation_id": conversation_id})
    assert first.status_code == 200, first.text
    assert first.json()["conversation_id"] == conversation_id and len(first.json()["items"]) == 4
    second = post(client, {"message": "cheaper", "conversation_id": conversation_id})
    assert second.status_code == 200 and second.json()["conversation_id"] == conversation_id
    assert turns(conversation_id) == ["jazz records", "cheaper"]
    stored = conversation_store().get(TENANT, conversation_id)
    assert stored is not None and stored.subject == ALICE


def test_optional_fields_sent_as_null_are_absent(client: TestClient) -> None:
    body = {
        "message": "rock records",
        "conversation_id": None,
        "session_id": None,
        "user_id": None,
        "events": None,
        "limit": None,
    }
    response = post(client, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert len(answer["items"]) == 4  # limit null: the default
    assert len(answer["conversation_id"]) == 36  # conversation_id null: a new one, a UUID
    stored = conversation_store().get(TENANT, answer["conversation_id"])
    assert stored is not None and (stored.user_id, stored.session_id) == (None, None)


@pytest.mark.parametrize("timestamp", ["2024-06-14T10:00:00", "2024-06-14", "2024-06-14T12:00:00+02:00"])
def test_event_timestamps_may_omit_the_zone_or_the_time(client: TestClient, timestamp: str) -> None:
    events = [
        {"timestamp": timestamp, "type": "browse", "item_id": "i3"},
        {"timestamp": "2024-06-14T10:03:00Z", "type": "click", "item_id": "i7"},
    ]
    response = post(client, {"message": "jazz records", "events": events, "limit": 3})
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 3


@pytest.mark.parametrize(
    ("timestamp", "moment"),
    [
        ("2024-06-14T10:00:00", datetime(2024, 6, 14, 10, tzinfo=UTC)),  # no zone: UTC
        ("2024-06-14", datetime(2024, 6, 14, tzinfo=UTC)),  # a date: its midnight UTC
        ("2024-06-14T12:00:00+02:00", datetime(2024, 6, 14, 10, tzinfo=UTC)),
    ],
)
def test_event_timestamps_are_read_as_utc(timestamp: str, moment: datetime) -> None:
    assert ChatEventIn.model_validate({"timestamp": timestamp, "type": "browse"}).timestamp == moment


@pytest.mark.parametrize("timestamp", ["14/06/2024", "yesterday", "2024-13-01", 1718359200, None])
def test_another_timestamp_is_422_saying_what_is_accepted(client: TestClient, timestamp: Any) -> None:
    response = post(client, {"message": "records", "events": [{"timestamp": timestamp, "type": "browse"}]})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (["body", "events", 0, "timestamp"], TIMESTAMP_RULE)


# Whose a conversation is


def test_a_browser_token_cannot_continue_another_shoppers_conversation(client: TestClient) -> None:
    started = post(client, {"message": "jazz records", "user_id": "u1"}, subject=ALICE)
    conversation_id = started.json()["conversation_id"]

    taken = post(client, {"message": "cheaper", "conversation_id": conversation_id}, subject=BOB)
    assert taken.status_code == 404
    body = taken.json()
    assert (body["code"], body["data"]) == ("CONVERSATION_NOT_FOUND", {"conversation_id": conversation_id})
    assert body["detail"] == (
        f"conversation '{conversation_id}' is not one this token may continue: "
        "omit conversation_id, or choose another id, to start a conversation"
    )
    assert "items" not in body  # nothing built on Alice's context
    assert turns(conversation_id) == ["jazz records"]  # and nothing written to it

    assert post(client, {"message": "cheaper", "conversation_id": conversation_id}, subject=ALICE).status_code == 200
    # A server acts for any shopper of its tenant; the conversation stays Alice's.
    server = post(client, {"message": "on vinyl", "conversation_id": conversation_id}, subject="shop", role="backend")
    assert server.status_code == 200
    stored = conversation_store().get(TENANT, conversation_id)
    assert stored is not None and stored.subject == ALICE
    assert [t.message for t in stored.turns] == ["jazz records", "cheaper", "on vinyl"]
    assert post(client, {"message": "more", "conversation_id": conversation_id}, subject=ALICE).status_code == 200
    assert post(client, {"message": "more", "conversation_id": conversation_id}, subject=BOB).status_code == 404


def test_a_browser_token_cannot_continue_a_conversation_a_server_started(client: TestClient) -> None:
    conversation_id = f"server-{uuid.uuid4()}"
    body = {"message": "folk records", "conversation_id": conversation_id, "user_id": "u2"}
    assert post(client, body, subject="shop", role="backend").status_code == 200
    assert post(client, {**body, "message": "cheaper"}, subject=ALICE).status_code == 404
    assert post(client, {**body, "message": "cheaper"}, subject="another-service", role="manager").status_code == 200
    assert turns(conversation_id) == ["folk records", "cheaper"]


def test_a_browser_token_without_a_subject_continues_nothing(client: TestClient) -> None:
    no_sub = {"Authorization": f"Bearer {signed(valid_claims(sub=None, tenant=TENANT, roles=['frontend']))}"}
    started = client.post("/v1/chat", json={"message": "pop records"}, headers=no_sub)
    assert started.status_code == 200  # it may chat, but there is no one to bind the conversation to
    body = {"message": "cheaper", "conversation_id": started.json()["conversation_id"]}
    again = client.post("/v1/chat", json=body, headers=no_sub)
    assert again.status_code == 404 and again.json()["code"] == "CONVERSATION_NOT_FOUND"
