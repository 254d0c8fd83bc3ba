"""Model definitions and the registry's view of them (the domain behind /v1/models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reco.errors import BadRequest, ModelNotFound
from reco.models.recipes import resolve_params
from reco.registry import ModelRecord, ModelRegistry, ModelVersion
from reco.schemas.models import (
    AUTO,
    RESERVED_MODEL_PREFIX,
    ModelDefinition,
    ModelList,
    ModelVersionView,
    ModelView,
    TuneSpec,
)
from reco.training.requests import TRAINING_STALE_SECONDS


def define_model(tenant: str, model_id: str, definition: ModelDefinition, registry: ModelRegistry) -> ModelView:
    """Create or replace a definition. The serving version stays until a new one is trained."""
    if model_id.startswith(RESERVED_MODEL_PREFIX):
        raise BadRequest(f"model ids starting with '{RESERVED_MODEL_PREFIX}' are reserved for the mock models")
    record = ModelRecord(
        model_id=model_id,
        recipe=definition.recipe,
        params=definition.stored_params(),
        tune=definition.stored_tune(),
        event_weights=definition.stored_event_weights(),
        attributes={name: rule.model_dump(exclude_none=True) for name, rule in definition.attributes.items()},
    )
    return _view(registry.define(tenant, record), registry, tenant)


def describe_model(tenant: str, model_id: str, registry: ModelRegistry) -> ModelView:
    record = registry.get(tenant, model_id)
    if record is None:
        raise ModelNotFound(f"model not found: '{model_id}'", data={"model_id": model_id})
    return _view(record, registry, tenant)


def list_models(tenant: str, registry: ModelRegistry, limit: int, cursor: str | None) -> ModelList:
    records, next_cursor = registry.list_models(tenant, limit, cursor)
    return ModelList(models=[_view(r, registry, tenant, with_versions=False) for r in records], next_cursor=next_cursor)


def _resolved(recipe: str, params: dict[str, Any]) -> dict[str, Any]:
    """The params with defaults filled in; as stored if the recipe no longer accepts them ("auto" takes none)."""
    try:
        return resolve_params(recipe, params)
    except ValueError:
        return dict(params)


def _tune(record: ModelRecord) -> TuneSpec | None:
    """The stored tune spec with today's defaults filled in ("auto" always tunes, as training does); None if
    there is none or it no longer validates."""
    if record.tune is None:
        return TuneSpec() if record.recipe == AUTO else None
    try:
        return TuneSpec.model_validate(record.tune)
    except ValueError:
        return None


def _version_view(version: ModelVersion) -> ModelVersionView:
    return ModelVersionView(
        version=version.version,
        trained_at=version.trained_at,
        recipe=version.recipe,
        params=None if version.recipe is None or version.params is None else _resolved(version.recipe, version.params),
        quality=version.quality if version.quality in ("ok", "below_popularity") else None,
        metrics=version.metrics,
    )


def _quality_warning(record: ModelRecord) -> str | None:
    """A ready model's reason when its serving version ranks below plain popularity on the holdout."""
    if record.quality != "below_popularity":
        return None
    return (
        f"version {record.current_version} serves, but popularity scores better on the holdout of your newest "
        'events (see its metrics): more events, other event_weights or another recipe ("recipe": "auto") may help'
    )


def _overdue(started_at: str | None) -> bool:
    if not started_at:
        return False
    started = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    return (datetime.now(UTC) - started).total_seconds() > TRAINING_STALE_SECONDS


def _view(record: ModelRecord, registry: ModelRegistry, tenant: str, with_versions: bool = True) -> ModelView:
    versions = registry.versions(tenant, record.model_id) if with_versions else []
    status, reason = record.status, record.reason
    if status == "training" and _overdue(record.training_started_at):
        # A run killed by a timeout or out of memory cannot say so itself; a new request may start.
        status = "failed"
        reason = (
            f"the training run did not finish within {TRAINING_STALE_SECONDS / 60:.0f} minutes "
            "(timed out or out of memory); train again, or choose lighter params"
        )
    if status == "ready" and reason is None:
        reason = _quality_warning(record)  # a warning, not a failure: the version serves
    return ModelView(
        model_id=record.model_id,
        recipe=record.recipe,
        params=_resolved(record.recipe, record.params),
        tune=_tune(record),
        event_weights=record.event_weights,
        attributes=record.attributes,
        status=status,
        reason=reason,
        current_version=record.current_version,
        versions=[_version_view(v) for v in versions],
        created_at=record.created_at,
        updated_at=record.updated_at,
    )
