"""The train function's services (and the local runner's and the command line's training runs)."""

from __future__ import annotations

from reco.stores.artifacts import artifact_storage
from reco.stores.catalog import catalog_store
from reco.stores.events import event_store
from reco.stores.models import model_registry
from reco.training.service import TrainingServices


def training_services() -> TrainingServices:
    return TrainingServices(model_registry(), event_store(), catalog_store(), artifact_storage())
