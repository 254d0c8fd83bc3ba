"""Data the catalog routes' sample events (events/*.json) need before they can succeed, keyed by file name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from reco.records import Event, Item, User
from reco.stores.catalog import catalog_store
from reco.stores.events import event_store

TENANT = "demo"  # the tenant claim of every sample event


def seed_items() -> None:
    result = catalog_store().put_items(
        TENANT, [Item("EC5792", {"category": "shoes", "price": 49.99}), Item("QW1234", {"category": "shoes"})]
    )
    assert result.accepted == 2


def seed_user() -> None:
    assert catalog_store().put_users(TENANT, [User("2f396d29fb98", {"segment": "vip"})]).accepted == 1


def seed_events() -> None:
    event = Event("evt-seed-1", "EC5792", "view", datetime.now(UTC).replace(microsecond=0), "2f396d29fb98", "s-81f2")
    assert event_store().put_events(TENANT, [event]).accepted == 1


CATALOG_SEEDS: dict[str, Callable[[], None]] = {
    "catalog-get-item.json": seed_items,
    "catalog-delete-item.json": seed_items,
    "catalog-list-items.json": seed_items,
    "catalog-get-user.json": seed_user,
    "events-user-events.json": seed_events,
    "events-session-events.json": seed_events,
}
