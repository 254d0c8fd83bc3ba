"""The model registry in DynamoDB: which models a tenant defined, and which trained version is current."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from reco.errors import ModelNotFound, StaleTrainingJob, TrainingInProgress
from reco.records import iso_millis
from reco.registry import ModelRecord, ModelVersion
from reco.settings import get_settings
from reco.stores.aws import cached_store, dynamodb_table, tenant_key
from reco.stores.codec import from_dynamo_document, query_page, to_dynamo_document

DEFINITION_FIELDS = ("recipe", "params", "event_weights", "attributes")
# Definition fields that may be absent: removed from the item when None (records written before them load as None).
OPTIONAL_DEFINITION_FIELDS = ("tune",)


def _now() -> str:
    return iso_millis(datetime.now(UTC))


def _conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class ModelRegistryStore:
    """Registry rows in the configuration table (docs/data-model.md).

    - definition: ``pk = <tenant>#model``, ``sk = <model_id>``;
    - version: ``pk = <tenant>#model#<model_id>``, ``sk = v#<000000042>``.
    """

    def __init__(self, table: Any) -> None:
        self._table = table

    def _key(self, tenant: str, model_id: str) -> dict[str, str]:
        return {"pk": tenant_key(tenant, "model"), "sk": model_id}

    def get(self, tenant: str, model_id: str) -> ModelRecord | None:
        item = self._table.get_item(Key=self._key(tenant, model_id)).get("Item")
        return None if item is None else _record(item)

    def put(self, tenant: str, record: ModelRecord) -> None:
        """Write a whole record (tests and imports; the API goes through :meth:`define`)."""
        item: dict[str, Any] = {
            **self._key(tenant, record.model_id),
            "recipe": record.recipe,
            "status": record.status,
            "params": to_dynamo_document(record.params),
            "event_weights": to_dynamo_document(record.event_weights),
            "attributes": to_dynamo_document(record.attributes),
            "created_at": record.created_at or _now(),
            "updated_at": record.updated_at or _now(),
        }
        if record.current_version is not None:
            item["current_version"] = record.current_version
        if record.tune is not None:
            item["tune"] = to_dynamo_document(record.tune)
        if record.quality is not None:
            item["quality"] = record.quality
        self._table.put_item(Item=item)

    def define(self, tenant: str, record: ModelRecord) -> ModelRecord:
        """Create or replace a definition; training state and published versions are kept."""
        now = _now()
        present = [*DEFINITION_FIELDS, *(n for n in OPTIONAL_DEFINITION_FIELDS if getattr(record, n) is not None)]
        absent = [name for name in OPTIONAL_DEFINITION_FIELDS if name not in present]
        values = {f":{name}": to_dynamo_document(getattr(record, name)) for name in present}
        response = self._table.update_item(
            Key=self._key(tenant, record.model_id),
            UpdateExpression="SET "
            + ", ".join(f"{name} = :{name}" for name in present)
            + ", updated_at = :now, created_at = if_not_exists(created_at, :now),"
            " #status = if_not_exists(#status, :untrained)" + (" REMOVE " + ", ".join(absent) if absent else ""),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={**values, ":now": now, ":untrained": "untrained"},
            ReturnValues="ALL_NEW",
        )
        return _record(response["Attributes"])

    def list_models(self, tenant: str, limit: int, cursor: str | None) -> tuple[list[ModelRecord], str | None]:
        rows, next_cursor = query_page(self._table.query, tenant_key(tenant, "model"), limit, cursor)
        return [_record(item) for item in rows], next_cursor

    def versions(self, tenant: str, model_id: str, limit: int = 20) -> list[ModelVersion]:
        response = self._table.query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": tenant_key(tenant, "model", model_id)},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [
            ModelVersion(
                version=int(item["version"]),
                artifact_key=str(item["artifact_key"]),
                trained_at=str(item["trained_at"]),
                metrics=from_dynamo_document(item.get("metrics", {})),
                recipe=item.get("recipe"),
                params=from_dynamo_document(item["params"]) if "params" in item else None,
                quality=item.get("quality"),
            )
            for item in response["Items"]
        ]

    def start_training(self, tenant: str, model_id: str, job_id: str, stale_after_seconds: float) -> ModelRecord:
        """Mark the model as training under ``job_id``, unless another run is still within its time."""
        now = datetime.now(UTC)
        try:
            response = self._table.update_item(
                Key=self._key(tenant, model_id),
                UpdateExpression="SET #status = :training, job_id = :job, training_started_at = :now,"
                " updated_at = :now REMOVE reason",
                ConditionExpression="attribute_exists(pk) AND (#status <> :training OR training_started_at < :stale)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":training": "training",
                    ":job": job_id,
                    ":now": iso_millis(now),
                    ":stale": iso_millis(now - timedelta(seconds=stale_after_seconds)),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if not _conditional_failure(error):
                raise
            if self.get(tenant, model_id) is None:
                raise ModelNotFound(f"model not found: '{model_id}'", data={"model_id": model_id}) from None
            raise TrainingInProgress(
                f"model '{model_id}' is already training; wait for it to finish (GET /v1/models/{model_id})",
                data={"model_id": model_id},
            ) from None
        return _record(response["Attributes"])

    def next_version(self, tenant: str, model_id: str) -> int:
        response = self._table.update_item(
            Key=self._key(tenant, model_id),
            UpdateExpression="ADD latest_version :one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["latest_version"])

    def publish(self, tenant: str, model_id: str, job_id: str, version: ModelVersion) -> None:
        """Record the version and move ``current_version`` to it, only if this run still owns the model.

        The artifact is already in S3 when this runs, so a reader that sees the new version can load it.
        """
        client = self._table.meta.client
        version_row = {
            "pk": tenant_key(tenant, "model", model_id),
            "sk": f"v#{version.version:09d}",
            "version": version.version,
            "artifact_key": version.artifact_key,
            "trained_at": version.trained_at,
            "metrics": to_dynamo_document(version.metrics),
        }
        if version.recipe is not None:
            version_row["recipe"] = version.recipe
        if version.params is not None:
            version_row["params"] = to_dynamo_document(version.params)
        if version.quality is not None:
            version_row["quality"] = version.quality
        # The model keeps its serving version's quality (listing models reads no version rows).
        quality = ", quality = :quality REMOVE reason" if version.quality is not None else " REMOVE reason, quality"
        try:
            # One transaction: a run that lost the model to a newer one leaves no version row behind.
            client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self._table.name, "Item": version_row}},
                    {
                        "Update": {
                            "TableName": self._table.name,
                            "Key": self._key(tenant, model_id),
                            "UpdateExpression": "SET current_version = :v, #status = :ready, updated_at = :now"
                            + quality,
                            "ConditionExpression": "job_id = :job"
                            " AND (attribute_not_exists(current_version) OR current_version < :v)",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {
                                ":v": version.version,
                                ":ready": "ready",
                                ":now": _now(),
                                ":job": job_id,
                                **({":quality": version.quality} if version.quality is not None else {}),
                            },
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            raise StaleTrainingJob(
                f"a newer training run took over model '{model_id}'; version {version.version} is not published"
            ) from None

    def fail(self, tenant: str, model_id: str, job_id: str, reason: str) -> None:
        try:
            self._table.update_item(
                Key=self._key(tenant, model_id),
                UpdateExpression="SET #status = :failed, reason = :reason, updated_at = :now",
                ConditionExpression="job_id = :job",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":failed": "failed",
                    ":reason": reason[:1000],
                    ":now": _now(),
                    ":job": job_id,
                },
            )
        except ClientError as error:
            if not _conditional_failure(error):
                raise  # a newer run owns the model: its status stands


def _record(item: dict[str, Any]) -> ModelRecord:
    version = item.get("current_version")
    return ModelRecord(
        model_id=str(item["sk"]),
        recipe=str(item.get("recipe", "")),
        status=str(item.get("status", "untrained")),
        current_version=int(version) if version is not None else None,
        params=from_dynamo_document(item.get("params", {})),
        event_weights=from_dynamo_document(item.get("event_weights", {})),
        attributes=from_dynamo_document(item.get("attributes", {})),
        tune=from_dynamo_document(item["tune"]) if "tune" in item else None,
        reason=item.get("reason"),
        job_id=item.get("job_id"),
        training_started_at=item.get("training_started_at"),
        created_at=str(item.get("created_at", "")),
        updated_at=str(item.get("updated_at", "")),
        quality=item.get("quality"),
    )


@cached_store
def model_registry() -> ModelRegistryStore:
    return ModelRegistryStore(dynamodb_table(get_settings().config_table))
