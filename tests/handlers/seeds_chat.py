"""Data the chat sample event (events/chat.json, chat-api.txt's example request) needs before it can succeed."""

from __future__ import annotations

from collections.abc import Callable

from reco.ingestion import ingest_items
from reco.stores.catalog import catalog_store
from tests.shop import load_shop

TENANT = "demo"  # the tenant claim of the sample event
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
    """The example's desk in a small shop with a trained model. Its conversation_id needs nothing: an id the
    server has not seen starts a conversation under it."""
    assert not ingest_items(TENANT, [DESK], catalog_store()).rejected
    load_shop(TENANT)


CHAT_SEEDS: dict[str, Callable[[], None]] = {"chat.json": seed_chat}
