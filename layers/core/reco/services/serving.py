"""The model cache every serving function shares: the registry's current versions, loaded from S3."""

from __future__ import annotations

from reco.serving.cache import ModelCache
from reco.settings import get_settings
from reco.stores.artifacts import artifact_storage
from reco.stores.aws import cached_store
from reco.stores.models import model_registry


@cached_store
def model_cache() -> ModelCache:
    return ModelCache(model_registry(), artifact_storage(), get_settings().model_refresh_seconds)
