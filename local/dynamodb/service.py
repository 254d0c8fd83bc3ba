"""The DynamoDB JSON API over the SQLite store: one call in (operation name, JSON body), one answer out."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from local.dynamodb import batches, items, queries
from local.dynamodb.encoding import dumps
from local.dynamodb.errors import (
    DynamoDBError,
    InternalServerError,
    ResourceNotFound,
    UnknownOperation,
    ValidationError,
)
from local.dynamodb.schema import table_schema
from local.dynamodb.storage import Database

TARGET_PREFIX = "DynamoDB_20120810."
SWEEP_BATCH = 1000
# DynamoDB deletes expired items within a few days; readers filter them out until then. Locally
# they go once a day past their time, so that tests of that filter see them.
EXPIRED_GRACE_SECONDS = 86_400

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class LocalDynamoDB:
    """DynamoDB on one SQLite file: what the local runner and ``reco --local`` talk to."""

    def __init__(self, path: Path) -> None:
        self.database = Database(path)
        self._tokens = batches.TransactionTokens()
        self._handlers: dict[str, Handler] = {
            "PutItem": lambda r: items.put_item(self.database, r),
            "GetItem": lambda r: items.get_item(self.database, r),
            "UpdateItem": lambda r: items.update_item(self.database, r),
            "DeleteItem": lambda r: items.delete_item(self.database, r),
            "Query": lambda r: queries.query(self.database, r),
            "Scan": lambda r: queries.scan(self.database, r),
            "BatchGetItem": lambda r: batches.batch_get_item(self.database, r),
            "BatchWriteItem": lambda r: batches.batch_write_item(self.database, r),
            "TransactWriteItems": lambda r: batches.transact_write_items(self.database, r, self._tokens),
            "TransactGetItems": lambda r: batches.transact_get_items(self.database, r),
            "CreateTable": self.create_table,
            "DescribeTable": self.describe_table,
            "DeleteTable": self.delete_table,
            "ListTables": self.list_tables,
            "UpdateTable": self.update_table,
            "UpdateTimeToLive": self.update_time_to_live,
            "DescribeTimeToLive": self.describe_time_to_live,
        }

    def close(self) -> None:
        self.database.close()

    def handle(self, target: str, body: bytes) -> tuple[int, bytes]:
        """``(status, JSON body)`` for a request with ``X-Amz-Target: DynamoDB_20120810.<Operation>``."""
        operation = target.removeprefix(TARGET_PREFIX)
        try:
            handler = self._handlers.get(operation)
            if handler is None:
                raise UnknownOperation(f"The local DynamoDB store does not implement {operation or 'this operation'}")
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                raise ValidationError("The request body is not JSON") from None
            if not isinstance(request, dict):
                raise ValidationError("The request body must be a JSON object")
            return 200, dumps(handler(request)).encode()
        except DynamoDBError as error:
            return error.status, dumps(error.body()).encode()
        except (KeyError, TypeError, AttributeError) as error:  # a malformed request shape
            return 400, dumps(ValidationError(f"Malformed {operation} request: {error!r}").body()).encode()
        except Exception as error:  # any other fault is the store's, answered as DynamoDB does
            return 500, dumps(InternalServerError(f"Internal error in the local store: {error!r}").body()).encode()

    # ---------------------------------------------------------------- tables
    def create_table(self, request: dict[str, Any]) -> dict[str, Any]:
        schema = table_schema(request)
        self.database.create_table(schema)
        return {"TableDescription": schema.describe()}

    def describe_table(self, request: dict[str, Any]) -> dict[str, Any]:
        schema = self.database.schema(request.get("TableName", ""))
        return {"Table": schema.describe(*self.database.statistics(schema.name))}

    def delete_table(self, request: dict[str, Any]) -> dict[str, Any]:
        schema = self.database.delete_table(request.get("TableName", ""))
        return {"TableDescription": {**schema.describe(), "TableStatus": "DELETING"}}

    def list_tables(self, request: dict[str, Any]) -> dict[str, Any]:
        names = self.database.table_names()
        start = request.get("ExclusiveStartTableName")
        if start is not None:
            names = [name for name in names if name > start]
        limit = request.get("Limit", 100)
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            raise ValidationError("Limit must be an integer from 1 to 100")
        answer: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            answer["LastEvaluatedTableName"] = names[limit - 1]
        return answer

    def update_table(self, request: dict[str, Any]) -> dict[str, Any]:
        """Indexes created or deleted (filled from the table's items at once), the billing mode."""
        schema = self.database.schema(request.get("TableName", ""))
        definition = schema.describe()
        attributes = {a["AttributeName"]: a for a in definition["AttributeDefinitions"]}
        attributes.update({a["AttributeName"]: a for a in request.get("AttributeDefinitions") or []})
        indexes = {index["IndexName"]: index for index in definition.get("GlobalSecondaryIndexes", [])}
        updates = request.get("GlobalSecondaryIndexUpdates") or []
        if len(updates) > 1:
            raise ValidationError(
                "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table"
            )
        for update in updates:
            if "Create" in update:
                name = update["Create"].get("IndexName")
                if name in indexes:
                    raise ValidationError(f"One or more parameter values were invalid: Index {name} already exists")
                indexes[name] = update["Create"]
            elif "Delete" in update:
                name = update["Delete"].get("IndexName")
                if name not in indexes:
                    raise ResourceNotFound(f"Requested resource not found: Index: {name} not found")
                del indexes[name]
            else:
                raise ValidationError("GlobalSecondaryIndexUpdates: only Create and Delete are supported locally")
        used = {k["AttributeName"] for k in definition["KeySchema"]}
        used |= {k["AttributeName"] for index in indexes.values() for k in index["KeySchema"]}
        changed = table_schema(
            {
                "TableName": schema.name,
                "KeySchema": definition["KeySchema"],
                "AttributeDefinitions": [a for name, a in attributes.items() if name in used],
                "GlobalSecondaryIndexes": list(indexes.values()),
                "BillingMode": request.get("BillingMode") or schema.billing_mode,
            }
        )
        self.database.update_schema(replace(changed, ttl_attribute=schema.ttl_attribute, created=schema.created))
        return {"TableDescription": self.database.schema(schema.name).describe()}

    def update_time_to_live(self, request: dict[str, Any]) -> dict[str, Any]:
        schema = self.database.schema(request.get("TableName", ""))
        spec = request.get("TimeToLiveSpecification") or {}
        attribute = spec.get("AttributeName")
        if not attribute:
            raise ValidationError("TimeToLiveSpecification needs an AttributeName")
        if spec.get("Enabled") and schema.ttl_attribute == attribute:
            raise ValidationError("TimeToLive is already enabled")
        self.database.update_schema(schema.with_ttl(attribute if spec.get("Enabled") else None))
        return {"TimeToLiveSpecification": {"AttributeName": attribute, "Enabled": bool(spec.get("Enabled"))}}

    def describe_time_to_live(self, request: dict[str, Any]) -> dict[str, Any]:
        schema = self.database.schema(request.get("TableName", ""))
        if schema.ttl_attribute is None:
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": schema.ttl_attribute}}

    # ---------------------------------------------------------------- time to live
    def delete_expired(self, now: float | None = None) -> int:
        """Delete items whose TTL passed more than a day ago; returns how many went."""
        cutoff = int((time.time() if now is None else now) - EXPIRED_GRACE_SECONDS)
        deleted = 0
        for name in self.database.table_names():
            schema = self.database.schema(name)
            if schema.ttl_attribute is None:
                continue
            while True:
                with self.database.write() as connection:
                    keys = self.database.expired_keys(connection, schema, cutoff, SWEEP_BATCH)
                    for key in keys:
                        self.database.delete(connection, schema, key)
                deleted += len(keys)
                if len(keys) < SWEEP_BATCH:
                    break
        return deleted
