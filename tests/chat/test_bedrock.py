"""The Bedrock chat model: Converse requests, strict parsing of its answers, and None on every failure."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.httpsession
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

from reco.chat.llm import GroundingItem
from reco.stores.bedrock import BedrockChatModel

MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
INFERENCE = {"maxTokens": 400, "temperature": 0.2}
VOCABULARY = {"color": ["red", "Blue", "green"], "material": ["wood", "steel"]}
DESK = GroundingItem("ST678VG", "Itelio workshop desk", "999.99", "Solid wood " * 60, {"material": "wood"})
LAMP = GroundingItem("LMP1", "Arco floor lamp", "120.00", None, {"color": "black"})


class Messages:
    """Matches Converse ``messages``: the roles in order, and the last message's text containing ``needles``."""

    def __init__(self, roles: list[str], *needles: str) -> None:
        self.roles = roles
        self.needles = needles

    def __eq__(self, actual: object) -> bool:
        if not isinstance(actual, list) or [m["role"] for m in actual] != self.roles:
            return False
        text = actual[-1]["content"][0]["text"]
        return all(needle in text for needle in self.needles)

    def __ne__(self, actual: object) -> bool:
        return not self == actual

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Messages({self.roles}, {self.needles})"


class SystemPrompt:
    """Matches a single system text block that contains ``needle``."""

    def __init__(self, needle: str) -> None:
        self.needle = needle

    def __eq__(self, actual: object) -> bool:
        return isinstance(actual, list) and len(actual) == 1 and self.needle in actual[0]["text"]

    def __ne__(self, actual: object) -> bool:
        return not self == actual

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SystemPrompt({self.needle!r})"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials, and any HTTP request fails the test: only the Stubber may answer."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)

    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a test tried to reach the network")

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", no_network)


@pytest.fixture
def client() -> Any:
    return boto3.client("bedrock-runtime", region_name="us-east-1")


@pytest.fixture
def stubber(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def model(client: Any) -> BedrockChatModel:
    return BedrockChatModel(client, MODEL_ID)


def answer(text: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 42},
    }


def expect(stubber: Stubber, text: str, messages: Messages, system: str) -> None:
    stubber.add_response(
        "converse",
        answer(text),
        expected_params={
            "modelId": MODEL_ID,
            "messages": messages,
            "system": SystemPrompt(system),
            "inferenceConfig": INFERENCE,
        },
    )


# interpret


def test_interpret_returns_the_constraints_and_sends_vocabulary_and_history(
    model: BedrockChatModel, stubber: Stubber
) -> None:
    history = [(f"question {n}", f"answer {n}") for n in range(8)]
    roles = ["user", "assistant"] * 6 + ["user"]
    body = {
        "text": "desk",
        "max_price": 500,
        "include": {"material": ["wood"], "color": ["blue", "purple"]},
        "exclude": {"color": ["red"], "size": ["XL"]},
        "recipient": "dad",
        "something_else": False,
        "unknown_key": 1,
    }
    expect(stubber, json.dumps(body), Messages(roles, '"material": ["wood", "steel"]', "a desk for dad"), "ONE JSON")
    result = model.interpret("a desk for dad", history, VOCABULARY)
    assert result == {
        "text": "desk",
        "max_price": 500,
        "include": {"material": ["wood"], "color": ["Blue"]},  # "purple" is not in the vocabulary
        "exclude": {"color": ["red"]},  # no "size" property in the vocabulary
        "recipient": "dad",
        "something_else": False,
    }


def test_interpret_reads_the_first_object_inside_code_fences(model: BedrockChatModel, stubber: Stubber) -> None:
    text = 'Sure! Here it is:\n```json\n{"text": "lamp", "min_price": 20.5, "vague": true}\n```\n{"text": "x"}'
    expect(stubber, text, Messages(["user"], "cheap lamp"), "ONE JSON")
    assert model.interpret("cheap lamp", [], VOCABULARY) == {"text": "lamp", "min_price": 20.5, "vague": True}


def test_interpret_truncates_a_large_vocabulary(model: BedrockChatModel, stubber: Stubber) -> None:
    vocabulary = {"brand": [f"brand-{n:03}" for n in range(200)], **{f"p{n}": ["v" * 100] * 50 for n in range(5)}}
    expect(stubber, "{}", Messages(["user"], "brand-049"), "ONE JSON")
    captured: list[str] = []
    stubber.client.meta.events.register(
        "provide-client-params.bedrock-runtime.Converse",
        lambda params, **_: captured.append(params["messages"][-1]["content"][0]["text"]),
    )
    assert model.interpret("anything", [], vocabulary) == {}
    sent = captured[0]
    assert "brand-050" not in sent  # 50 values per property
    assert len(sent.encode()) < 8_000 + 200  # 8 KB of vocabulary, plus the message


@pytest.mark.parametrize(
    "text",
    [
        '{"text": 5}',
        '{"max_price": "100"}',
        '{"min_price": true}',
        '{"min_price": 50, "max_price": 10}',
        '{"vague": "yes"}',
        '{"include": ["wood"]}',
        '{"include": {"material": "wood"}}',
        '{"exclude": {"color": [1, 2]}}',
        "no json at all",
        '["text", "desk"]',
        '{"text": "desk"',
    ],
)
def test_interpret_rejects_wrong_types(model: BedrockChatModel, stubber: Stubber, text: str) -> None:
    expect(stubber, text, Messages(["user"], "desk"), "ONE JSON")
    assert model.interpret("desk", [], VOCABULARY) is None


# reply


def test_reply_returns_the_text_and_sends_the_items(model: BedrockChatModel, stubber: Stubber) -> None:
    text = "The \"Itelio workshop desk\" is solid wood at 999.99 - or try the 'arco floor lamp'. It's sturdy."
    expect(
        stubber,
        f"  {text}\n",
        Messages(["user"], '"id": "ST678VG"', '"title": "Itelio workshop desk"', '"price": "120.00"', "heavy tools"),
        "2-3",
    )
    assert model.reply("a desk for heavy tools", [DESK, LAMP], {"text": "desk"}) == text


def test_reply_truncates_descriptions(model: BedrockChatModel, stubber: Stubber) -> None:
    captured: list[str] = []
    stubber.client.meta.events.register(
        "provide-client-params.bedrock-runtime.Converse",
        lambda params, **_: captured.append(params["messages"][-1]["content"][0]["text"]),
    )
    expect(stubber, "Here is a desk.", Messages(["user"], "Solid wood"), "2-3")
    assert model.reply("desk", [DESK], {}) == "Here is a desk."
    products = json.loads(captured[0].split("\n")[1])
    assert len(products[0]["description"]) == 300
    assert products[0]["properties"] == {"material": "wood"}


@pytest.mark.parametrize(
    "text",
    [
        'You will love the "Nimbus standing desk".',
        "Try the ‘Oak Writing Table’ instead.",  # noqa: RUF001
        "Both 'Itelio workshop desk' and 'Itelio bench' are great.",
    ],
)
def test_reply_naming_an_unknown_quoted_title_is_rejected(model: BedrockChatModel, stubber: Stubber, text: str) -> None:
    expect(stubber, text, Messages(["user"], "Itelio"), "2-3")
    assert model.reply("desk", [DESK, LAMP], {}) is None


@pytest.mark.parametrize("text", ["", "   \n", "x" * 1_201])
def test_an_empty_or_too_long_reply_is_rejected(model: BedrockChatModel, stubber: Stubber, text: str) -> None:
    expect(stubber, text, Messages(["user"], "Itelio"), "2-3")
    assert model.reply("desk", [DESK], {}) is None


def test_a_reply_of_1200_characters_is_kept(model: BedrockChatModel, stubber: Stubber) -> None:
    expect(stubber, "y" * 1_200, Messages(["user"], "Itelio"), "2-3")
    assert model.reply("desk", [DESK], {}) == "y" * 1_200


def test_an_empty_list_still_asks_the_model(model: BedrockChatModel, stubber: Stubber) -> None:
    expect(stubber, "Nothing matched. What is your budget?", Messages(["user"], "Products", "[]"), "ONE clarifying")
    assert model.reply("something", [], {}) == "Nothing matched. What is your budget?"


# failures


def test_throttling_returns_none_and_logs(
    model: BedrockChatModel, stubber: Stubber, caplog: pytest.LogCaptureFixture
) -> None:
    stubber.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    stubber.add_client_error("converse", service_error_code="AccessDeniedException", http_status_code=403)
    with caplog.at_level(logging.WARNING):
        assert model.reply("desk", [DESK], {}) is None
        assert model.interpret("desk", [], VOCABULARY) is None
    failures = [(r.operation, r.code) for r in caplog.records if r.getMessage() == "bedrock converse failed"]
    assert failures == [("reply", "ThrottlingException"), ("interpret", "AccessDeniedException")]


def test_a_timeout_returns_none(model: BedrockChatModel, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def timeout(**params: Any) -> Any:
        calls.append(params)
        raise ReadTimeoutError(endpoint_url="x")

    monkeypatch.setattr(client, "converse", timeout)
    assert model.interpret("desk", [], VOCABULARY) is None
    assert model.reply("desk", [DESK], {}) is None
    assert [call["modelId"] for call in calls] == [MODEL_ID, MODEL_ID]


def test_an_answer_without_text_returns_none(model: BedrockChatModel, stubber: Stubber) -> None:
    response = answer("unused")
    response["output"]["message"]["content"] = []
    stubber.add_response("converse", response)
    assert model.reply("desk", [DESK], {}) is None


def test_from_settings_makes_one_attempt_with_the_timeout() -> None:
    model = BedrockChatModel.from_settings("amazon.nova-lite-v1:0", 3.5)
    config = model._client.meta.config
    assert config.read_timeout == 3.5
    assert config.connect_timeout == 2
    assert config.retries == {"total_max_attempts": 1, "mode": "standard"}
    assert model._model_id == "amazon.nova-lite-v1:0"
    assert model._client.meta.service_model.service_name == "bedrock-runtime"
    assert BedrockChatModel.from_settings("m", 1.0)._client.meta.config.connect_timeout == 1.0


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def test_from_settings_does_not_retry_a_throttled_call(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []

    def throttled(self: Any, request: Any) -> AWSResponse:
        sent.append(request.url)
        headers = {"x-amzn-ErrorType": "ThrottlingException", "Content-Type": "application/json"}
        return AWSResponse(request.url, 429, headers, _Body(b'{"message": "Too many requests"}'))

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", throttled)
    model = BedrockChatModel.from_settings(MODEL_ID, 1.0)
    assert model.reply("desk", [DESK], {}) is None
    assert len(sent) == 1  # a retrying client (botocore's default) would have sent 3
    assert sent[0].startswith("https://bedrock-runtime.us-east-1.amazonaws.com/model/")
