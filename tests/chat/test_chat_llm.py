"""POST /v1/chat with the Bedrock language model: a real bedrock-runtime client under botocore's Stubber.

The model reads the message and words the reply; whatever goes wrong with it (a reply naming an item that
was not returned, throttling, a timeout, an answer that is no JSON) the turn still answers 200 with the
built-in understanding and reply.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import ANY, Stubber
from fastapi.testclient import TestClient

import chat_api
from local.tokens import issue_token
from reco.chat.service import ChatServices
from reco.services.chat import chat_services
from reco.services.recommendations import recommendation_services
from reco.stores.bedrock import BedrockChatModel
from reco.stores.catalog import catalog_store
from reco.stores.conversations import conversation_store

TENANT = "demo"
MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
# tests.shop: records with a genre (rock, jazz, pop, folk), a price between 5 and 60, tags vinyl / live / new.
VAGUE = "something mellow for a rainy evening"  # nothing the built-in reading knows: it finds nothing
MELLOW = {"include": {"genre": ["jazz"]}, "max_price": 30}  # what the model reads in it


class LastMessage:
    """Matches Converse ``messages``: these roles, the last message's text containing ``needles``."""

    def __init__(self, roles: list[str], *needles: str) -> None:
        self.roles, self.needles = roles, needles

    def __eq__(self, actual: object) -> bool:
        if not isinstance(actual, list) or [m["role"] for m in actual] != self.roles:
            return False
        return all(needle in actual[-1]["content"][0]["text"] for needle in self.needles)

    def __ne__(self, actual: object) -> bool:
        return not self == actual

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LastMessage({self.roles}, {self.needles})"


@pytest.fixture(scope="module")
def client(shop_client: TestClient) -> TestClient:
    return shop_client


@pytest.fixture
def bedrock() -> Any:
    return boto3.client("bedrock-runtime", region_name="us-east-1")


class Switch:
    """Whether the router's services have the language model (the deployed ones have none in tests)."""

    def __init__(self, services: ChatServices) -> None:
        self.services, self.on = services, True

    def __call__(self) -> ChatServices:
        return self.services if self.on else chat_services()


@pytest.fixture
def switch(client: TestClient, bedrock: Any, monkeypatch: pytest.MonkeyPatch) -> Switch:
    """The router's services with a BedrockChatModel over the stubbed client (the rest as deployed)."""
    model = BedrockChatModel(bedrock, MODEL_ID)
    switch = Switch(ChatServices(recommendation_services(), conversation_store(), catalog_store(), model))
    monkeypatch.setattr(chat_api, "chat_services", switch)
    return switch


@pytest.fixture
def stubber(switch: Switch, bedrock: Any) -> Iterator[Stubber]:
    with Stubber(bedrock) as stub:
        yield stub
        stub.assert_no_pending_responses()


def answer(text: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 42},
    }


def expect(stubber: Stubber, text: str, messages: LastMessage) -> None:
    params = {"modelId": MODEL_ID, "messages": messages, "system": ANY, "inferenceConfig": ANY}
    stubber.add_response("converse", answer(text), expected_params=params)


def chat(client: TestClient, message: str, conversation_id: str | None = None) -> dict[str, Any]:
    body = {"message": message, **({"conversation_id": conversation_id} if conversation_id else {})}
    response = client.post(
        "/v1/chat", json=body, headers={"Authorization": f"Bearer {issue_token(TENANT, ['frontend'])}"}
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def built_in(client: TestClient, message: str) -> dict[str, Any]:
    """The answer without a language model (the deployed services: CHAT_MODEL_ID is empty in tests)."""
    switch = chat_api.chat_services
    assert isinstance(switch, Switch) and chat_services().language_model is None
    switch.on = False
    try:
        return chat(client, message)
    finally:
        switch.on = True


def test_the_model_reads_the_message_and_words_the_reply(client: TestClient, stubber: Stubber) -> None:
    jazz = built_in(client, "jazz under $30")  # the same constraints, read by the built-in understanding
    assert built_in(client, VAGUE)["items"] == []
    title = jazz["items"][1]["title"]
    reply = f'For a rainy evening, "{title}" is a mellow pick at ${jazz["items"][1]["price"]}.'
    expect(stubber, json.dumps(MELLOW), LastMessage(["user"], VAGUE, '"genre": ["folk", "jazz", "pop", "rock"]'))
    expect(stubber, reply, LastMessage(["user"], VAGUE, f'"title": "{title}"', '"max_price": 30'))
    found = chat(client, VAGUE)
    assert found["message"] == reply
    assert found["items"] == jazz["items"]
    assert all(item["title"].startswith("Jazz record") and float(item["price"]) <= 30 for item in found["items"])
    stored = conversation_store().get(TENANT, found["conversation_id"])
    assert stored is not None and stored.turns[0].reply == reply
    assert stored.turns[0].constraints["include"] == {"genre": ["jazz"]}
    assert stored.turns[0].constraints["max_price"] == 30


def test_the_model_refines_without_dropping_earlier_wishes(client: TestClient, stubber: Stubber) -> None:
    expect(stubber, json.dumps({"include": {"genre": ["rock"]}}), LastMessage(["user"], "some rock please"))
    expect(stubber, "Here is some rock.", LastMessage(["user"], "some rock please"))
    first = chat(client, "some rock please")
    history = ["user", "assistant", "user"]
    expect(stubber, json.dumps({"include": {"tags": ["vinyl"]}}), LastMessage(history, "only on vinyl"))
    expect(stubber, "Here is rock on vinyl.", LastMessage(["user"], "only on vinyl"))
    second = chat(client, "only on vinyl", first["conversation_id"])
    assert second["message"] == "Here is rock on vinyl."
    stored = conversation_store().get(TENANT, first["conversation_id"])
    assert stored is not None
    assert stored.turns[1].constraints["include"] == {"genre": ["rock"], "tags": ["vinyl"]}
    found = catalog_store().get_items(TENANT, [item["item_id"] for item in second["items"]])
    assert second["items"] and all(
        p.properties["genre"] == "rock" and "vinyl" in p.properties["tags"] for p in found.values()
    )


def test_a_reply_naming_an_item_not_returned_gives_the_built_in_reply(client: TestClient, stubber: Stubber) -> None:
    expected = built_in(client, "rock records")
    expect(stubber, json.dumps({"include": {"genre": ["rock"]}}), LastMessage(["user"], "rock records"))
    expect(stubber, 'Try the "Rock record 999", a rare pressing.', LastMessage(["user"], "rock records"))
    found = chat(client, "rock records")
    assert found["message"] == expected["message"] and found["items"] == expected["items"]
    assert "999" not in found["message"] and found["items"][0]["title"] in found["message"]


def test_throttling_gives_the_built_in_reading_and_reply(client: TestClient, stubber: Stubber) -> None:
    expected = built_in(client, "folk under $25")
    stubber.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    stubber.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    found = chat(client, "folk under $25")
    assert found["message"] == expected["message"] and found["items"] == expected["items"]
    stored = conversation_store().get(TENANT, found["conversation_id"])
    assert stored is not None and stored.turns[0].constraints["max_price"] == 25.0


def test_an_answer_that_is_no_json_gives_the_built_in_reading(client: TestClient, stubber: Stubber) -> None:
    expected = built_in(client, "pop records")
    expect(stubber, "Sure, pop it is!", LastMessage(["user"], "pop records"))
    expect(stubber, "Some pop for you.", LastMessage(["user"], "pop records"))
    found = chat(client, "pop records")
    assert found["items"] == expected["items"] and found["message"] == "Some pop for you."


def test_a_timeout_gives_the_built_in_reading_and_reply(
    client: TestClient, stubber: Stubber, bedrock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = built_in(client, "jazz records, not live")
    calls: list[str] = []

    def timeout(**params: Any) -> Any:
        calls.append(params["modelId"])
        raise ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com")

    monkeypatch.setattr(bedrock, "converse", timeout)
    found = chat(client, "jazz records, not live")
    assert calls == [MODEL_ID, MODEL_ID]  # interpret, then reply
    assert found["message"] == expected["message"] and found["items"] == expected["items"]
