"""Repositories over DynamoDB and S3. Every key starts with the tenant id (see docs/data-model.md)."""

from reco.stores.aws import dynamodb_table
from reco.stores.catalog import CatalogStore, catalog_store
from reco.stores.events import EventStore, event_store
from reco.stores.models import ModelRegistryStore, model_registry
from reco.stores.scenarios import ScenarioStore, scenario_store

__all__ = [
    "CatalogStore",
    "EventStore",
    "ModelRegistryStore",
    "ScenarioStore",
    "catalog_store",
    "dynamodb_table",
    "event_store",
    "model_registry",
    "scenario_store",
]
