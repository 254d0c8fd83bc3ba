"""A small electronics-and-books store for the /v1/recommendations tests: names, categories, brands, prices.

Users like one category (user k: CATEGORIES[k % 3]); recent events sit inside the default 14-day
auto-mode window, older ones outside it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from reco.ingestion import ingest_events, ingest_items, ingest_users
from reco.registry import ModelRecord
from reco.schemas.models import DEFAULT_EVENT_WEIGHTS
from reco.services.training import training_services
from reco.stores.catalog import catalog_store
from reco.stores.events import event_store
from reco.stores.models import model_registry
from reco.training.requests import TrainingJob
from reco.training.service import run_training

CATEGORIES = ("electronics", "books", "garden")
BRANDS = ("Acme", "Zeta", "Nova")
N_ITEMS, N_USERS = 60, 30
NOW = datetime.now(UTC).replace(microsecond=0)


def store_items() -> list[dict[str, Any]]:
    rng = np.random.default_rng(3)
    items = []
    for i in range(N_ITEMS):
        category = CATEGORIES[i % 3]
        properties: dict[str, Any] = {
            "name": f"{category.title()} thing {i}",
            "description": f"A {BRANDS[i % 3]} {category} product number {i}.",
            "category": category,
            "brand": BRANDS[(i // 3) % 3],
            "price": round(float(rng.uniform(5, 500)), 2),
            "in_stock": bool(i % 4),
            "tags": [t for t, keep in (("sale", i % 2 == 0), ("new", i % 5 == 0)) if keep],
            "created_at": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "type": "comment" if i % 10 == 9 else "product",
        }
        items.append({"id": f"itm_{i}", "properties": properties})
    return items


def store_events(now: datetime = NOW) -> list[dict[str, Any]]:
    rng = np.random.default_rng(5)
    events = []
    for u in range(N_USERS):
        liked = [i for i in range(N_ITEMS) if i % 3 == u % 3]
        for n, i in enumerate(rng.choice(liked, size=10, replace=False).tolist()):
            kind = "purchase" if n % 5 == 0 else "view"
            # The last three events of a user are recent (days ago), the others two months old.
            at = now - (timedelta(days=60, hours=n) if n < 7 else timedelta(days=10 - n, hours=1))
            events.append(
                {
                    "event_id": f"ev-{u}-{n}",
                    "user_id": f"usr_{u}",
                    "item_id": f"itm_{i}",
                    "type": kind,
                    "timestamp": at.isoformat().replace("+00:00", "Z"),
                }
            )
    return events


def load_store(tenant: str, *, recipe: str = "als", model_id: str = "store-model") -> None:
    assert not ingest_items(tenant, store_items(), catalog_store()).rejected
    users = [
        {"id": f"usr_{u}", "properties": {"segments": ["vip"] if u == 0 else [], "country": "DE"}}
        for u in range(N_USERS)
    ]
    assert not ingest_users(tenant, users, catalog_store()).rejected
    assert not ingest_events(tenant, store_events(), event_store(), bulk=True).rejected
    train(tenant, recipe, model_id)


def train(tenant: str, recipe: str, model_id: str) -> None:
    registry = model_registry()
    params = {"als": {"factors": 8, "iterations": 6}, "ease": {"l2": 10.0}, "item_knn": {"neighbors": 20}}[recipe]
    registry.define(tenant, ModelRecord(model_id, recipe, params=params, event_weights=dict(DEFAULT_EVENT_WEIGHTS)))
    job = TrainingJob(tenant, model_id, f"job-{tenant}-{model_id}")
    registry.start_training(tenant, model_id, job.job_id, stale_after_seconds=0)
    assert run_training(job, training_services()) is not None
