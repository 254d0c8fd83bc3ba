"""The model registry's domain types: what a tenant defined and which version serves (no AWS here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ModelRecord:
    model_id: str
    recipe: str
    status: str = "untrained"
    current_version: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    event_weights: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    # The tune spec ({"metric", "budget_seconds", "seed"}); None: train the params as given.
    tune: dict[str, Any] | None = None
    reason: str | None = None
    job_id: str | None = None
    training_started_at: str | None = None
    created_at: str = ""
    updated_at: str = ""
    # The current version's quality (see ModelVersion), kept here so listing models needs no version reads.
    quality: str | None = None


@dataclass(frozen=True)
class ModelVersion:
    """One published, immutable artifact of a model."""

    version: int
    artifact_key: str
    trained_at: str
    metrics: dict[str, Any] = field(default_factory=dict)
    # What was trained: the definition's recipe and params, or what tuning chose (None before they were recorded).
    recipe: str | None = None
    params: dict[str, Any] | None = None
    # "ok", or "below_popularity" when popularity scores better on the holdout; None without a holdout.
    quality: str | None = None


class ModelLookup(Protocol):
    """Anything that finds a tenant's model definition (ModelRegistryStore in production)."""

    def get(self, tenant: str, model_id: str) -> ModelRecord | None: ...


class ModelRegistry(ModelLookup, Protocol):
    """The registry's write side: definitions, training state and published versions."""

    def define(self, tenant: str, record: ModelRecord) -> ModelRecord: ...

    def list_models(self, tenant: str, limit: int, cursor: str | None) -> tuple[list[ModelRecord], str | None]: ...

    def versions(self, tenant: str, model_id: str, limit: int = 20) -> list[ModelVersion]: ...

    def start_training(self, tenant: str, model_id: str, job_id: str, stale_after_seconds: float) -> ModelRecord: ...

    def next_version(self, tenant: str, model_id: str) -> int: ...

    def publish(self, tenant: str, model_id: str, job_id: str, version: ModelVersion) -> None: ...

    def fail(self, tenant: str, model_id: str, job_id: str, reason: str) -> None: ...


class ArtifactStorage(Protocol):
    """Where artifacts' bytes live (S3 in production)."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...


def artifact_key(tenant: str, model_id: str, version: int) -> str:
    return f"{tenant}/models/{model_id}/v{version}.npz"
