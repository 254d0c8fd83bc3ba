"""A per-container cache of loaded artifacts that follows the registry's current version."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from reco.errors import DatabaseNotReady, ModelNotFound, ModelNotReady, WrongDataType
from reco.models.artifact import ModelArtifact
from reco.registry import ArtifactStorage, ModelLookup, ModelRecord, artifact_key
from reco.serving.attributes import AttributeRules, parse_rules


@dataclass(frozen=True)
class ServingModel:
    """One loaded version of a model, with the attribute rules it was defined with."""

    record: ModelRecord
    version: int
    artifact: ModelArtifact
    rules: AttributeRules


class ModelListing(ModelLookup, Protocol):
    def list_models(self, tenant: str, limit: int, cursor: str | None) -> tuple[list[ModelRecord], str | None]: ...


def choose_model(records: Sequence[ModelRecord], allowlist: Sequence[str] | None) -> ModelRecord:
    """The model a scenario-driven request runs on.

    With an allowlist (a case's ``algorithms``), its first model that has a version to serve;
    without, the servable model updated last (ties by id). Raises DATABASE_NOT_READY when the
    tenant has nothing trained at all, WRONG_DATA_TYPE when no allowlisted model is.
    """
    servable = [r for r in records if r.current_version is not None]
    if not servable:
        raise DatabaseNotReady(
            "no model has been trained for this tenant yet: define one (PUT /v1/models/{id}) and train it",
        )
    if allowlist:
        by_id = {r.model_id: r for r in servable}
        for model_id in allowlist:
            if model_id in by_id:
                return by_id[model_id]
        raise WrongDataType(
            f"no allowlisted trained instance: none of the case's algorithms ({'|'.join(allowlist)}) "
            f"is a trained model; trained models: {', '.join(sorted(by_id))}",
            data={"algorithms": list(allowlist)},
        )
    return max(servable, key=lambda r: (r.updated_at, r.model_id))


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
        self._listings: dict[str, tuple[float, list[ModelRecord]]] = {}

    def serving(self, tenant: str, allowlist: Sequence[str] | None = None) -> ServingModel:
        """The model :func:`choose_model` picks among the tenant's models (listed at most every refresh)."""
        return self.current(tenant, choose_model(self._tenant_models(tenant), allowlist).model_id)

    def _tenant_models(self, tenant: str) -> list[ModelRecord]:
        now = self._clock()
        with self._lock:
            cached = self._listings.get(tenant)
        if cached is not None and now - cached[0] < self._refresh:
            return cached[1]
        if not hasattr(self._registry, "list_models"):
            raise TypeError("choosing a model needs a registry that can list models")
        registry = cast(ModelListing, self._registry)
        records: list[ModelRecord] = []
        cursor: str | None = None
        while True:
            page, cursor = registry.list_models(tenant, 100, cursor)
            records.extend(page)
            if cursor is None:
                break
        if any(r.current_version is not None for r in records):  # else asked again next request
            with self._lock:
                self._listings[tenant] = (now, records)
        return records

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
