"""Conversations: what each turn asked, understood and showed, so the next turn can refine it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from reco.identity import Identity

MAX_TURNS = 50  # a conversation this long is started afresh: its oldest constraints no longer help


@dataclass(frozen=True)
class Turn:
    number: int  # 1, 2, …
    message: str
    reply: str
    constraints: Mapping[str, Any]  # Constraints.as_dict()
    items: Sequence[str]  # item ids shown, in order
    prices: Sequence[float]  # their prices, where known (a "cheaper" refines from them)
    created_at: datetime


@dataclass(frozen=True)
class Conversation:
    conversation_id: str
    user_id: str | None
    session_id: str | None
    created_at: datetime
    turns: list[Turn] = field(default_factory=list)
    # The ``sub`` of the token that started it: a browser token continues only its own subject's.
    subject: str | None = None

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def may_be_continued_by(self, caller: Identity) -> bool:
        """Server-side callers continue any conversation of their tenant; a browser token only those its
        subject started (another shopper's holds that shopper's context)."""
        return caller.server_side or (caller.subject is not None and caller.subject == self.subject)

    def shown(self) -> list[str]:
        """Every item shown so far, each once, in order."""
        return list(dict.fromkeys(item for turn in self.turns for item in turn.items))


class ConversationRepository(Protocol):
    def get(self, tenant: str, conversation_id: str) -> Conversation | None: ...

    def append(self, tenant: str, conversation: Conversation, turn: Turn) -> bool:
        """Store ``turn`` (and the header on the first); False if that turn number was taken meanwhile."""
        ...
