"""Data the chat sample event (events/chat.json, chat-api.txt's example request) needs before it can succeed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from reco.chat.conversations import Conversation, Turn
from reco.ingestion import ingest_items
from reco.stores import catalog_store
from reco.stores.conversations import conversation_store
from tests.shop import load_shop

TENANT = "demo"  # the tenant claim of the sample event
CONVERSATION_ID = "c8a7d9f6-e4b1-42d3-8c2e-5a8d4f31b96f"  # the conversation the example continues
DESK = {
    "id": "ST678VG",  # the item of the example's events
    "properties": {
        "title": "Itelio workshop desk",
        "description": "Solid wood workshop desk for the discerning customer.",
        "category": "desks",
        "price": 999.99,
        "stock": 3,
    },
}


def seed_chat() -> None:
    """The example's desk in a small shop with a trained model, and the conversation's first turn."""
    assert not ingest_items(TENANT, [DESK], catalog_store()).rejected
    load_shop(TENANT)
    now = datetime.now(UTC)
    conversation = Conversation(CONVERSATION_ID, "u8a7d9f6", "2f396d29-fb98-44cf-996c-e8c66fc02fbe", now)
    first = Turn(1, "I need a desk", "What will you use it for?", {"text": "desk"}, [], [], now)
    assert conversation_store().append(TENANT, conversation, first)


CHAT_SEEDS: dict[str, Callable[[], None]] = {"chat.json": seed_chat}
