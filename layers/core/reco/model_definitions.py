"""Model definitions and the registry's view of them (the domain behind /v1/models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reco.errors import BadRequest, ModelNotFound
from reco.models import resolve_params
from reco.registry import ModelRecord, ModelRegistry
from reco.schemas.models import RESERVED_MODEL_PREFIX, ModelDefinition, ModelList, ModelVersionView, ModelView
from reco.training.service import TRAINING_STALE_SECONDS


def define_model(tenant: str, model_id: str, definition: ModelDefinition, registry: ModelRegistry) -> ModelView:
    """Create or replace a definition. The serving version stays until a new one is trained."""
    if model_id.startswith(RESERVED_MODEL_PREFIX):
        raise BadRequest(f"model ids starting with '{RESERVED_MODEL_PREFIX}' are reserved for the mock models")
    record = ModelRecord(
        model_id=model_id,
        recipe=definition.recipe,
        params=dict(definition.params),
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


def _resolved(record: ModelRecord) -> dict[str, Any]:
    """The params with defaults filled in; as stored if the recipe no longer accepts them."""
    try:
        return resolve_params(record.recipe, record.params)
    except ValueError:
        return dict(record.params)


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
    return ModelView(
        model_id=record.model_id,
        recipe=record.recipe,
        params=_resolved(record),
        event_weights=record.event_weights,
        attributes=record.attributes,
        status=status,
        reason=reason,
        current_version=record.current_version,
        versions=[ModelVersionView(version=v.version, trained_at=v.trained_at, metrics=v.metrics) for v in versions],
        created_at=record.created_at,
        updated_at=record.updated_at,
    )
