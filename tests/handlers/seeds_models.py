"""Data the model routes' sample events (events/*.json) need before they can succeed, keyed by file name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from reco.records import Event
from reco.registry import ModelRecord
from reco.schemas.models import DEFAULT_EVENT_WEIGHTS
from reco.stores.events import event_store
from reco.stores.models import model_registry

TENANT = "demo"  # the tenant claim of every sample event


def seed_model() -> None:
    model_registry().define(TENANT, ModelRecord("home-als", "als", event_weights=dict(DEFAULT_EVENT_WEIGHTS)))


def seed_model_and_events() -> None:
    seed_model()
    now = datetime.now(UTC).replace(microsecond=0)
    events = [Event(f"e{i}", f"item-{i % 3}", "view", now, f"user-{i % 2}") for i in range(6)]
    assert event_store().put_events(TENANT, events).accepted == 6


MODELS_SEEDS: dict[str, Callable[[], None]] = {
    "models-get-model.json": seed_model,
    "models-train-model.json": seed_model_and_events,
}
