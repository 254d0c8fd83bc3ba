"""A per-container cache of loaded artifacts that follows the registry's current version."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from reco.errors import ModelNotFound, ModelNotReady
from reco.models import ModelArtifact
from reco.registry import ArtifactStorage, ModelLookup, ModelRecord, artifact_key
from reco.serving.attributes import AttributeRules, parse_rules


@dataclass(frozen=True)
class ServingModel:
    """One loaded version of a model, with the attribute rules it was defined with."""

    record: ModelRecord
    version: int
    artifact: ModelArtifact
    rules: AttributeRules


@dataclass
class _Entry:
    model: ServingModel
    checked_at: float


class ModelCache:
    """Loads an artifact on first use; asks the registry for a newer version at most every ``refresh_seconds``.

    Between checks a request costs no I/O for the model. A new version is loaded before it replaces
    the old one, so a request never sees a half-loaded model. Least recently used models are dropped
    beyond ``max_models`` (a Lambda container's memory is the limit).
    """

    def __init__(
        self,
        registry: ModelLookup,
        storage: ArtifactStorage,
        refresh_seconds: float,
        max_models: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._storage = storage
        self._refresh = refresh_seconds
        self._max = max_models
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()  # the local runner serves from threads; Lambda from one

    def current(self, tenant: str, model_id: str) -> ServingModel:
        key = (tenant, model_id)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry.checked_at < self._refresh:
                self._entries.move_to_end(key)
                return entry.model
        record = self._registry.get(tenant, model_id)
        if record is None:
            self._forget(key)
            raise ModelNotFound(f"model not found: '{model_id}'", data={"model_id": model_id})
        if record.current_version is None:
            raise ModelNotReady(
                f"model '{model_id}' is {record.status} and has no version that can serve yet; "
                f"POST /v1/models/{model_id}/train, then retry once GET /v1/models/{model_id} says ready",
                data={"model_id": model_id, "status": record.status},
            )
        if entry is not None and entry.model.version == record.current_version:
            # Same artifact; the definition's attribute rules may have changed without retraining.
            same = entry.model.record == record
            model = (
                entry.model
                if same
                else ServingModel(record, entry.model.version, entry.model.artifact, parse_rules(record.attributes))
            )
        else:
            data = self._storage.get(artifact_key(tenant, model_id, record.current_version))
            artifact = ModelArtifact.from_bytes(data)
            model = ServingModel(record, record.current_version, artifact, parse_rules(record.attributes))
        with self._lock:
            self._entries[key] = _Entry(model, now)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return model

    def _forget(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._entries.pop(key, None)
