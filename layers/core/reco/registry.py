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


class ModelLookup(Protocol):
    """Anything that finds a tenant's model definition (ModelRegistryStore in production)."""

    def get(self, tenant: str, model_id: str) -> ModelRecord | None: ...
