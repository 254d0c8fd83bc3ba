"""A small shop for the customer API: categories, prices, dates (some missing), events and a trained model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from reco.ingestion import ingest_events, ingest_items
from reco.registry import ModelRecord
from reco.schemas.models import DEFAULT_EVENT_WEIGHTS
from reco.services.training import training_services
from reco.stores.catalog import catalog_store
from reco.stores.events import event_store
from reco.stores.models import model_registry
from reco.training.requests import TrainingJob
from reco.training.service import run_training

MODEL = "customer-als"
CATEGORIES = ("electronics", "books", "garden", "toys")
# 100..159, plus the ids of the reference's example body (product_456, product_789).
NUMBERS = [*range(100, 160), 456, 789]
N_USERS = 32
LAUNCH = datetime(2026, 1, 1, tzinfo=UTC)
Dates = Literal["iso", "epoch", "none"]


def item_id(number: int, integer_ids: bool = False) -> str:
    return str(number) if integer_ids else f"product_{number}"


def item_properties(index: int, dates: Dates = "iso", category_arrays: bool = False) -> dict[str, Any]:
    """Item ``index``: category by index % 4, a price unless index % 10 == 9, a date unless index % 8 == 7."""
    category = CATEGORIES[index % len(CATEGORIES)]
    properties: dict[str, Any] = {"title": f"{category} thing {index}"}
    properties["category"] = [category, "sale"] if category_arrays and index % 2 else category
    if index % 10 != 9:
        properties["price"] = round(5 + (index * 37) % 600 + 0.99, 2)
    created = LAUNCH + timedelta(days=index, hours=index % 5)
    if index % 8 != 7 and dates == "iso":
        properties["created_at"] = created.isoformat().replace("+00:00", "Z")
    elif index % 8 != 7 and dates == "epoch":
        properties["created_at"] = created.timestamp()
    return properties


def customer_items(integer_ids: bool = False, dates: Dates = "iso", category_arrays: bool = False) -> list[dict]:
    return [
        {"id": item_id(number, integer_ids), "properties": item_properties(index, dates, category_arrays)}
        for index, number in enumerate(NUMBERS)
    ]


def properties_by_id(integer_ids: bool = False, dates: Dates = "iso") -> dict[str, dict[str, Any]]:
    return {item["id"]: item["properties"] for item in customer_items(integer_ids, dates)}


def customer_events(integer_ids: bool = False) -> list[dict[str, Any]]:
    """User u likes category u % 4: views its items, buys one in three; recent, so within retention."""
    start = datetime.now(UTC) - timedelta(days=20)
    events = []
    for user in range(N_USERS):
        liked = [n for i, n in enumerate(NUMBERS) if i % len(CATEGORIES) == user % len(CATEGORIES)]
        for step in range(9):
            number = liked[(user * 5 + step * 3) % len(liked)]
            events.append(
                {
                    "event_id": f"e-{user}-{step}",
                    "user_id": f"u{user}",
                    "item_id": item_id(number, integer_ids),
                    "type": "purchase" if step % 3 == 0 else "view",
                    "timestamp": (start + timedelta(hours=user * 5 + step)).isoformat().replace("+00:00", "Z"),
                }
            )
    return events


def load_customer_shop(
    tenant: str, *, integer_ids: bool = False, dates: Dates = "iso", category_arrays: bool = False
) -> None:
    """Items, events and the trained model ``customer-als`` (ALS, default event weights)."""
    items = customer_items(integer_ids, dates, category_arrays)
    assert not ingest_items(tenant, items, catalog_store()).rejected
    assert not ingest_events(tenant, customer_events(integer_ids), event_store(), bulk=True).rejected
    registry = model_registry()
    params = {"factors": 8, "iterations": 6}
    registry.define(tenant, ModelRecord(MODEL, "als", params=params, event_weights=dict(DEFAULT_EVENT_WEIGHTS)))
    job = TrainingJob(tenant, MODEL, f"job-{tenant}")
    registry.start_training(tenant, MODEL, job.job_id, stale_after_seconds=0)
    assert run_training(job, training_services()) is not None
