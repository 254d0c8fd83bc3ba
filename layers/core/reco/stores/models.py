"""The model registry in DynamoDB: which models a tenant defined, and which trained version is current."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from reco.registry import ModelRecord
from reco.settings import get_settings
from reco.stores.aws import dynamodb_table, tenant_key


class ModelRegistryStore:
    """Registry rows in the configuration table: ``pk = <tenant>#model``, ``sk = <model_id>``."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, tenant: str, model_id: str) -> ModelRecord | None:
        item = self._table.get_item(Key={"pk": tenant_key(tenant, "model"), "sk": model_id}).get("Item")
        if item is None:
            return None
        version = item.get("current_version")
        return ModelRecord(
            model_id=model_id,
            recipe=str(item.get("recipe", "")),
            status=str(item.get("status", "untrained")),
            current_version=int(version) if version is not None else None,
            params=dict(item.get("params", {})),
        )

    def put(self, tenant: str, record: ModelRecord) -> None:
        item: dict[str, Any] = {
            "pk": tenant_key(tenant, "model"),
            "sk": record.model_id,
            "recipe": record.recipe,
            "status": record.status,
            "params": record.params,
        }
        if record.current_version is not None:
            item["current_version"] = record.current_version
        self._table.put_item(Item=item)


@lru_cache(maxsize=1)
def model_registry() -> ModelRegistryStore:
    return ModelRegistryStore(dynamodb_table(get_settings().config_table))
