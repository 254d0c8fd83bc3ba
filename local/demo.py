"""The demo tenant ``make run`` starts with: the generated catalog, users and events, and a trained model."""

from __future__ import annotations

import sys
import time

from reco.demo import generate_demo
from reco.ingestion import ingest_events, ingest_items, ingest_users
from reco.registry import ModelRecord
from reco.schemas.models import DEFAULT_EVENT_WEIGHTS
from reco.services.training import training_services
from reco.stores.catalog import catalog_store
from reco.stores.events import event_store
from reco.stores.models import model_registry
from reco.training.requests import TrainingJob
from reco.training.service import run_training

DEMO_TENANT = "demo"
DEMO_MODEL = "demo-als"
# Out-of-stock items sink below all others (weight > 1: more than the whole score range), items on sale
# rise a little: the attribute rules the README shows.
DEMO_ATTRIBUTES = {
    "stock": {"effect": "demote", "when": {"op": "eq", "value": 0}, "weight": 2.0},
    "on_sale": {"effect": "boost", "when": {"op": "eq", "value": True}, "weight": 0.1},
}


def ensure_demo(tenant: str = DEMO_TENANT, model_id: str = DEMO_MODEL) -> str:
    """Load and train the demo tenant unless a store kept from an earlier run already has its model."""
    record = model_registry().get(tenant, model_id)
    if record is not None and record.current_version is not None:
        return f"demo tenant '{tenant}': kept from an earlier run (model '{model_id}' v{record.current_version})"
    print("loading the demo tenant and training its model ...", file=sys.stderr, flush=True)
    return seed_demo(tenant, model_id)


def seed_demo(tenant: str = DEMO_TENANT, model_id: str = DEMO_MODEL) -> str:
    """Load the demo data and train ``model_id``; returns a one-line summary."""
    started = time.perf_counter()
    data = generate_demo()
    for batch_start in range(0, len(data.items), 1000):
        ingest_items(tenant, data.items[batch_start : batch_start + 1000], catalog_store())
    ingest_users(tenant, data.users, catalog_store())
    for batch_start in range(0, len(data.events), 1000):
        ingest_events(tenant, data.events[batch_start : batch_start + 1000], event_store(), bulk=True)
    registry = model_registry()
    registry.define(
        tenant,
        ModelRecord(model_id, "als", event_weights=dict(DEFAULT_EVENT_WEIGHTS), attributes=DEMO_ATTRIBUTES),
    )
    job = TrainingJob(tenant, model_id, "demo-seed")
    registry.start_training(tenant, model_id, job.job_id, stale_after_seconds=0)
    version = run_training(job, training_services())
    if version is None:
        record = registry.get(tenant, model_id)
        raise RuntimeError(f"demo model failed to train: {record.reason if record else '?'}")
    return (
        f"demo tenant '{tenant}': {len(data.items)} items, {len(data.users)} users, {len(data.events)} events; "
        f"model '{model_id}' v{version.version} trained in {time.perf_counter() - started:.1f} s"
    )
