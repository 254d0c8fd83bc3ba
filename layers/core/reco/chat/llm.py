"""The optional language model of the chat: what the domain asks of it, and nothing about how it is reached.

Both calls may fail (timeout, throttling, a malformed answer): they then return None and the chat
falls back to its own understanding and replies, so a turn never fails because of the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class GroundingItem:
    """An item the reply may talk about: the only facts the model is given."""

    item_id: str
    title: str
    price: str | None
    description: str | None
    properties: Mapping[str, Any]


class ChatLanguageModel(Protocol):
    def interpret(
        self, message: str, history: Sequence[tuple[str, str]], vocabulary: Mapping[str, Sequence[str]]
    ) -> Mapping[str, Any] | None:
        """Constraints of ``message`` as a JSON object (keys of ``Constraints.as_dict``), or None.

        ``history`` is the conversation so far as (shopper message, reply) pairs; ``vocabulary`` the
        catalog's property values the constraints may use.
        """
        ...

    def reply(self, message: str, items: Sequence[GroundingItem], constraints: Mapping[str, Any]) -> str | None:
        """A short reply grounded in ``items`` only (it names no other item), or None."""
        ...
