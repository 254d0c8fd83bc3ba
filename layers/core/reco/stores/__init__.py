"""Repositories over DynamoDB and S3. Every key starts with the tenant id (see docs/data-model.md)."""

from reco.stores.aws import dynamodb_table
from reco.stores.models import ModelRecord, ModelRegistryStore, model_registry

__all__ = ["ModelRecord", "ModelRegistryStore", "dynamodb_table", "model_registry"]
