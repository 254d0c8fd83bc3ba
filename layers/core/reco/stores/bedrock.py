"""The chat's language model on Amazon Bedrock (Converse API): see :mod:`reco.chat.llm` for the contract.

Every call is one attempt with short timeouts; any failure (throttling, access denied, timeout, an answer
that is not what was asked) is logged and turns into None, so the chat falls back to its own replies.
The model sees only the shopper's words, the catalog's vocabulary and the retrieved items.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from reco.chat.llm import GroundingItem
from reco.observability import logger

HISTORY_PAIRS = 6
VOCABULARY_VALUES = 50
VOCABULARY_BYTES = 8_000
DESCRIPTION_CHARS = 300
ITEM_PROPERTIES = 6
MAX_REPLY_CHARS = 1_200

INTERPRET_PROMPT = """You turn a shopper's message into search constraints for a product catalog.
Answer with ONE JSON object and nothing else. Every key is optional; use only these keys:
- "text": string, the content words to search for (product kinds, materials, features), without filler words
- "min_price", "max_price": numbers, a price range the shopper asked for
- "include", "exclude": objects mapping a property name to a list of values the items must have / must not have;
  use ONLY property names and values that appear in the vocabulary given with the message, spelled exactly
- "recipient": string, who the purchase is for (e.g. "dad"); "occasion": string (e.g. "birthday")
- "something_else": true if the shopper rejects the previous suggestions and wants different ones
- "vague": true if the message is too unspecific to search for anything
Leave out keys the message says nothing about. The earlier turns give context for follow-up messages."""

REPLY_PROMPT = """You are a shopping assistant writing the reply that accompanies a list of products.
Rules:
- Reply in at most 2-3 short sentences of plain text.
- Mention only products from the given list, by their exact title; never invent products, brands or features.
- State no prices other than the prices given in the list.
- If the list is empty, say nothing matched and ask ONE clarifying question.
- Do not use quotation marks except around an exact product title."""

_STRING_KEYS = ("text", "recipient", "occasion")
_PRICE_KEYS = ("min_price", "max_price")
_FLAG_KEYS = ("something_else", "vague")
_PROPERTY_KEYS = ("include", "exclude")

# A quoted span: straight or curly double quotes, or single quotes that are not apostrophes inside a word.
_QUOTED = re.compile(
    r"\"([^\"\n]+)\"|“([^”\n]+)”|(?<!\w)'([^'\n]+)'(?!\w)|(?<!\w)‘([^’\n]+)’(?!\w)"  # noqa: RUF001
)
_SPACES = re.compile(r"\s+")


class BedrockChatModel:
    """:class:`reco.chat.llm.ChatLanguageModel` over ``bedrock-runtime`` ``converse``; never raises."""

    def __init__(self, client: Any, model_id: str, *, max_tokens: int = 400, temperature: float = 0.2) -> None:
        self._client = client
        self._model_id = model_id
        self._max_tokens = max_tokens
        self._temperature = temperature

    @classmethod
    def from_settings(cls, model_id: str, timeout_seconds: float) -> BedrockChatModel:
        """A model whose client makes one attempt per call (a chat turn must not wait on retries)."""
        config = Config(
            read_timeout=timeout_seconds,
            connect_timeout=min(2, timeout_seconds),
            # total_max_attempts counts the first request; botocore's "max_attempts" counts retries (1 = 2 calls).
            retries={"total_max_attempts": 1, "mode": "standard"},
        )
        return cls(boto3.client("bedrock-runtime", config=config), model_id)

    def interpret(
        self, message: str, history: Sequence[tuple[str, str]], vocabulary: Mapping[str, Sequence[str]]
    ) -> Mapping[str, Any] | None:
        prompt = f"Vocabulary (property: allowed values):\n{_vocabulary_json(vocabulary)}\n\nMessage:\n{message}"
        text = self._converse("interpret", INTERPRET_PROMPT, [*_history_messages(history), _user(prompt)])
        if text is None:
            return None
        constraints = _parse_constraints(text, vocabulary)
        if constraints is None:
            logger.warning("bedrock answer is not valid constraints", extra={"operation": "interpret"})
        return constraints

    def reply(self, message: str, items: Sequence[GroundingItem], constraints: Mapping[str, Any]) -> str | None:
        listed = [_item_json(item) for item in items]
        prompt = (
            f"Products (the only ones you may mention):\n{json.dumps(listed, ensure_ascii=False, default=str)}\n\n"
            f"Understood constraints:\n{json.dumps(dict(constraints), ensure_ascii=False, default=str)}\n\n"
            f"Shopper message:\n{message}"
        )
        text = self._converse("reply", REPLY_PROMPT, [_user(prompt)])
        if text is None:
            return None
        reply = text.strip()
        problem = _reply_problem(reply, [item.title for item in items])
        if problem is not None:
            logger.warning("bedrock reply rejected", extra={"operation": "reply", "reason": problem})
            return None
        return reply

    def _converse(self, operation: str, system: str, messages: list[dict[str, Any]]) -> str | None:
        """The text of the model's answer, or None (logged) whatever went wrong."""
        try:
            response = self._client.converse(
                modelId=self._model_id,
                messages=messages,
                system=[{"text": system}],
                inferenceConfig={"maxTokens": self._max_tokens, "temperature": self._temperature},
            )
        except Exception as error:  # ClientError, BotoCoreError (timeouts, connection), anything else: no reply
            code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
            logger.warning(
                "bedrock converse failed",
                extra={"operation": operation, "model_id": self._model_id, "error": type(error).__name__, "code": code},
            )
            return None
        text = _answer_text(response)
        if text is None:
            logger.warning("bedrock answer has no text", extra={"operation": operation, "model_id": self._model_id})
        return text


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text}]}


def _history_messages(history: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """The last turns as alternating user / assistant messages (Converse rejects empty text blocks)."""
    messages: list[dict[str, Any]] = []
    for asked, answered in list(history)[-HISTORY_PAIRS:]:
        if asked.strip() and answered.strip():
            messages += [_user(asked), {"role": "assistant", "content": [{"text": answered}]}]
    return messages


def _vocabulary_json(vocabulary: Mapping[str, Sequence[str]]) -> str:
    """At most VOCABULARY_VALUES values per property, whole properties while the JSON fits VOCABULARY_BYTES."""
    kept: dict[str, list[str]] = {}
    size = 2
    for name, values in vocabulary.items():
        entry = [str(value) for value in list(values)[:VOCABULARY_VALUES]]
        cost = len(json.dumps({name: entry}, ensure_ascii=False).encode()) + 1
        if size + cost > VOCABULARY_BYTES:
            continue
        kept[name] = entry
        size += cost
    return json.dumps(kept, ensure_ascii=False)


def _item_json(item: GroundingItem) -> dict[str, Any]:
    description = item.description or ""
    if len(description) > DESCRIPTION_CHARS:
        description = description[: DESCRIPTION_CHARS - 1].rstrip() + "…"
    properties = {
        name: value
        for name, value in list(item.properties.items())[:ITEM_PROPERTIES]
        if isinstance(value, str | int | float | bool) or (isinstance(value, list) and len(value) <= 10)
    }
    return {
        "id": item.item_id,
        "title": item.title,
        "price": item.price,
        "description": description or None,
        "properties": properties,
    }


def _answer_text(response: Any) -> str | None:
    try:
        text = response["output"]["message"]["content"][0]["text"]
    except (KeyError, IndexError, TypeError):
        return None
    return text if isinstance(text, str) else None


def _first_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (prose or code fences around it are ignored)."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        return value if isinstance(value, dict) else None
    return None


def _parse_constraints(text: str, vocabulary: Mapping[str, Sequence[str]]) -> dict[str, Any] | None:
    """Known keys with strictly checked types (null means absent); unknown keys are ignored; None if invalid."""
    raw = _first_json_object(text)
    if raw is None:
        return None
    result: dict[str, Any] = {}
    for key in _STRING_KEYS:
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            return None
        if value.strip():
            result[key] = value.strip()
    for key in _PRICE_KEYS:
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            return None
        result[key] = value
    if "min_price" in result and "max_price" in result and result["min_price"] > result["max_price"]:
        return None
    for key in _FLAG_KEYS:
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, bool):
            return None
        result[key] = value
    for key in _PROPERTY_KEYS:
        value = raw.get(key)
        if value is None:
            continue
        properties = _vocabulary_values(value, vocabulary)
        if properties is None:
            return None
        if properties:
            result[key] = properties
    return result


def _vocabulary_values(value: Any, vocabulary: Mapping[str, Sequence[str]]) -> dict[str, list[str]] | None:
    """property → values kept only where the vocabulary has them (in its spelling); None if mistyped."""
    if not isinstance(value, dict):
        return None
    kept: dict[str, list[str]] = {}
    for name, values in value.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return None
        known = {str(v).casefold(): str(v) for v in vocabulary.get(name, ())}
        matched = list(dict.fromkeys(known[v.casefold()] for v in values if v.casefold() in known))
        if matched:
            kept[name] = matched
    return kept


def _normalized(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


def _reply_problem(reply: str, titles: Sequence[str]) -> str | None:
    """Why ``reply`` may not be shown (empty, too long, quotes something no item title contains), or None."""
    if not reply:
        return "empty"
    if len(reply) > MAX_REPLY_CHARS:
        return "too long"
    known = [_normalized(title) for title in titles]
    for match in _QUOTED.finditer(reply):
        span = _normalized(next(group for group in match.groups() if group is not None)).strip(" .,;:!?")
        if len(span) >= 4 and not any(span in title for title in known):
            return "quotes an unknown title"
    return None
