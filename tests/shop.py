"""A small, deterministic shop loaded into the in-memory AWS, with a trained model: the scenario tests' data."""

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

MODEL = "shop-als"
GENRES = ("rock", "jazz", "pop", "folk")
N_ITEMS, N_USERS = 60, 30


def shop_items() -> list[dict[str, Any]]:
    rng = np.random.default_rng(7)
    items = []
    for i in range(N_ITEMS):
        genre = GENRES[i % len(GENRES)]
        properties: dict[str, Any] = {
            "title": f"{genre.title()} record {i}",
            "genre": genre,
            "year": int(1980 + i % 40),
            "price": round(float(rng.uniform(5, 60)), 2),
            "in_stock": bool(i % 5),
            "tags": [t for t, keep in (("vinyl", i % 2 == 0), ("live", i % 3 == 0), ("new", i % 7 == 0)) if keep],
        }
        items.append({"id": f"i{i}", "properties": properties})
    return items


def shop_events() -> list[dict[str, Any]]:
    """Users like one genre (user k: GENRES[k % 4]) and view, sometimes buy, its records."""
    rng = np.random.default_rng(11)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = []
    for u in range(N_USERS):
        liked = [i for i in range(N_ITEMS) if i % len(GENRES) == u % len(GENRES)]
        for n, i in enumerate(rng.choice(liked, size=8, replace=False).tolist()):
            kind = "purchase" if n % 4 == 0 else "view"
            at = start + timedelta(hours=u * 24 + n)
            events.append(
                {
                    "event_id": f"e-{u}-{n}",
                    "user_id": f"u{u}",
                    "item_id": f"i{i}",
                    "type": kind,
                    "timestamp": at.isoformat().replace("+00:00", "Z"),
                }
            )
    return events


def load_shop(tenant: str, *, train: bool = True) -> None:
    """Items, users (with a favourite genre), events and, unless ``train=False``, the trained model."""
    assert not ingest_items(tenant, shop_items(), catalog_store()).rejected
    users = [{"id": f"u{u}", "properties": {"favourite": GENRES[u % len(GENRES)]}} for u in range(N_USERS)]
    assert not ingest_users(tenant, users, catalog_store()).rejected
    assert not ingest_events(tenant, shop_events(), event_store(), bulk=True).rejected
    if train:
        train_shop(tenant)


def train_shop(tenant: str) -> None:
    registry = model_registry()
    params = {"factors": 8, "iterations": 6}
    registry.define(tenant, ModelRecord(MODEL, "als", params=params, event_weights=dict(DEFAULT_EVENT_WEIGHTS)))
    job = TrainingJob(tenant, MODEL, f"job-{tenant}")
    registry.start_training(tenant, MODEL, job.job_id, stale_after_seconds=0)
    assert run_training(job, training_services()) is not None
