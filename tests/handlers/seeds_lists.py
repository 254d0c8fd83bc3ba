"""Data the list routes' sample events (events/lists-*.json) need before they can succeed, keyed by file name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from reco.lists.contexts import put_context
from reco.schemas.lists import ContextBody
from reco.services.lists import context_services
from tests.shop import load_shop

TENANT = "demo"  # the tenant claim of every sample event


def seed_context() -> None:
    body = ContextBody.model_validate(
        {"name": "Home page", "filters": ["in_stock:true"], "excluded_viewed_items": True}
    )
    put_context(TENANT, "101", body, context_services(), datetime.now(UTC))


def seed_shop_and_context() -> None:
    load_shop(TENANT)
    seed_context()


LISTS_SEEDS: dict[str, Callable[[], None]] = {
    "lists-recommendations.json": seed_shop_and_context,
    "lists-get-context.json": seed_context,
    "lists-delete-context.json": seed_context,
}
