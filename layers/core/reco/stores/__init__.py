"""Repositories over DynamoDB and S3. Every key starts with the tenant id (see docs/data-model.md)."""

from reco.stores.aws import dynamodb_table
from reco.stores.models import ModelRegistryStore, model_registry

__all__ = ["ModelRegistryStore", "dynamodb_table", "model_registry"]
