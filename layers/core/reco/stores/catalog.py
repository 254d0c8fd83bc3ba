"""Items and users in the catalog table: ``pk = <tenant>#item | <tenant>#user``, ``sk = <id>``.

Writing items also records which property names exist with which kinds of value
(``pk = <tenant>#item-property``, ``sk = <name>#<kind>``), so scenario writes can warn about
properties no item has and refuse filters that cannot match, without scanning the catalog.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from reco.observability import logger
from reco.records import IngestResult, Item, Page, PropertyValue, Rejection, User, iso_millis
from reco.settings import get_settings
from reco.stores.aws import cached_store, dynamodb_table, tenant_key
from reco.stores.codec import (
    MAX_ATTEMPTS,
    RETRYABLE_ERRORS,
    backoff_seconds,
    batch_get,
    error_code,
    from_dynamo_properties,
    query_page,
    to_dynamo_properties,
)

ITEM = "item"
USER = "user"
ITEM_PROPERTY = "item-property"
BATCH_WRITE_SIZE = 25  # DynamoDB's BatchWriteItem limit
ITER_PAGE_SIZE = 1000

# Past this many remembered (tenant, name, kind) rows a container forgets them and writes again.
MAX_REMEMBERED_KINDS = 50_000

Record = TypeVar("Record", Item, User)
Request = dict[str, Any]
StoredKind = Literal["int", "float", "bool", "string", "strings", "object"]
FilterKind = Literal["number", "bool", "string", "strings"]


@dataclass(frozen=True)
class PropertyKind:
    """What filters may assume about a property: its kind in the filter vocabulary (None: mixed)."""

    kind: FilterKind | None
    is_float: bool = False  # some value is not a whole number (eq / neq still compare exactly)


def stored_kind(value: PropertyValue | object) -> StoredKind:
    """A value's kind as recorded; 12.0 is an int, as DynamoDB stores it (12)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "int" if value.is_integer() else "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list) and all(isinstance(element, str) for element in value):
        return "strings"
    return "object"


def property_kind(stored: set[str]) -> PropertyKind:
    """The filter view of every kind a property was seen with."""
    if stored <= {"int", "float"}:
        return PropertyKind("number", is_float="float" in stored)
    if stored == {"bool"}:
        return PropertyKind("bool")
    if stored == {"string"}:
        return PropertyKind("string")
    if stored <= {"string", "strings"}:
        return PropertyKind("strings")  # a scalar string is matched like a one-element array
    return PropertyKind(None)


def busy(code: str) -> str:
    return f"not stored: the catalog table is busy ({code}); resend this row"


class CatalogStore:
    """A tenant's items and users. Writes replace a record's properties as a whole (PUT semantics)."""

    def __init__(
        self,
        table: Any,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._table = table
        self._sleep = sleep
        self._clock = clock
        self._max_attempts = max_attempts
        self._recorded_kinds: set[tuple[str, str, str]] = set()  # (tenant, name, kind) rows this container wrote

    # ------------------------------------------------------------------ writes
    def put_items(self, tenant: str, items: Sequence[Item]) -> IngestResult:
        """Upsert items (ids unique within the call); rejections are by position in ``items``."""
        result = self._put(tenant, ITEM, items)
        rejected = {rejection.index for rejection in result.rejected}
        self._record_kinds(tenant, [item for index, item in enumerate(items) if index not in rejected])
        return result

    def put_users(self, tenant: str, users: Sequence[User]) -> IngestResult:
        return self._put(tenant, USER, users)

    def delete_item(self, tenant: str, item_id: str) -> bool:
        """True if the item existed and is gone, False if there was no such item."""
        try:
            self._table.delete_item(
                Key={"pk": tenant_key(tenant, ITEM), "sk": item_id}, ConditionExpression="attribute_exists(pk)"
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _put(self, tenant: str, kind: str, records: Sequence[Record]) -> IngestResult:
        updated_at = iso_millis(self._clock())
        position = {record.id: index for index, record in enumerate(records)}
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": tenant_key(tenant, kind),
                        "sk": record.id,
                        "properties": to_dynamo_properties(record.properties),
                        "updated_at": updated_at,
                    }
                }
            }
            for record in records
        ]
        rejected = []
        for start in range(0, len(requests), BATCH_WRITE_SIZE):
            for request, error in self._batch_write(requests[start : start + BATCH_WRITE_SIZE]):
                rejected.append(Rejection(position[request["PutRequest"]["Item"]["sk"]], error))
        rejected.sort(key=lambda r: r.index)
        return IngestResult(accepted=len(records) - len(rejected), rejected=rejected)

    def _batch_write(self, requests: list[Request]) -> list[tuple[Request, str]]:
        """Write up to 25 rows, retrying what DynamoDB left unprocessed; returns the rows it could not write."""
        client, name = self._table.meta.client, self._table.name
        pending, attempt = requests, 0
        while True:
            try:
                response = client.batch_write_item(RequestItems={name: pending})
            except ClientError as error:
                code = error_code(error)
                if code == "ValidationException":
                    return self._put_one_by_one(pending)  # find the row DynamoDB refuses; store the others
                if code not in RETRYABLE_ERRORS:
                    raise
                reason = busy(code)
            else:
                pending = response.get("UnprocessedItems", {}).get(name, [])
                if not pending:
                    return []
                reason = busy("unprocessed items")
            attempt += 1
            if attempt >= self._max_attempts:
                return [(request, reason) for request in pending]
            self._sleep(backoff_seconds(attempt))

    def _put_one_by_one(self, requests: list[Request]) -> list[tuple[Request, str]]:
        failed = []
        for request in requests:
            try:
                self._table.put_item(Item=request["PutRequest"]["Item"])
            except ClientError as error:
                code = error_code(error)
                if code == "ValidationException":
                    failed.append((request, f"not stored: {error.response['Error'].get('Message', code)}"))
                elif code in RETRYABLE_ERRORS:
                    failed.append((request, busy(code)))
                else:
                    raise
        return failed

    def _record_kinds(self, tenant: str, items: Sequence[Item]) -> None:
        """Best effort, once per container and row: a missing kind row only costs a spurious warning later.

        One attempt per 25 rows, no backoff: the items are stored and their caller is waiting.
        """
        if len(self._recorded_kinds) > MAX_REMEMBERED_KINDS:
            self._recorded_kinds.clear()
        seen = {(tenant, name, stored_kind(value)) for item in items for name, value in item.properties.items()}
        new = sorted(seen - self._recorded_kinds)
        client, table = self._table.meta.client, self._table.name
        for start in range(0, len(new), BATCH_WRITE_SIZE):
            chunk = new[start : start + BATCH_WRITE_SIZE]
            rows = [{"pk": tenant_key(tenant, ITEM_PROPERTY), "sk": f"{name}#{kind}"} for _, name, kind in chunk]
            try:
                response = client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": r}} for r in rows]})
            except (ClientError, BotoCoreError) as error:
                logger.warning("item property kinds not recorded", extra={"rows": len(rows), "error": str(error)})
                continue
            unprocessed = {r["PutRequest"]["Item"]["sk"] for r in response.get("UnprocessedItems", {}).get(table, [])}
            self._recorded_kinds.update(
                key for key, row in zip(chunk, rows, strict=True) if row["sk"] not in unprocessed
            )

    # ------------------------------------------------------------------ reads
    def property_kinds(self, tenant: str) -> dict[str, PropertyKind]:
        """Every item property name ever written for the tenant, with what filters may assume of it.

        A property name may itself contain '#': a row's kind is what follows its last one.
        """
        stored: dict[str, set[str]] = {}
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": tenant_key(tenant, ITEM_PROPERTY)},
        }
        while True:
            response = self._table.query(**request)
            for row in response.get("Items", []):
                name, _, kind = str(row["sk"]).rpartition("#")
                stored.setdefault(name, set()).add(kind)
            if "LastEvaluatedKey" not in response:
                return {name: property_kind(kinds) for name, kinds in stored.items()}
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def get_item(self, tenant: str, item_id: str) -> Item | None:
        return self._get(tenant, ITEM, item_id, Item)

    def get_user(self, tenant: str, user_id: str) -> User | None:
        return self._get(tenant, USER, user_id, User)

    def list_items(self, tenant: str, cursor: str | None = None, limit: int = 20) -> Page[Item]:
        """Items in id order, ``limit`` at a time; ``cursor`` is a previous page's ``next_cursor``."""
        rows, next_cursor = query_page(self._table.query, tenant_key(tenant, ITEM), limit, cursor, ConsistentRead=True)
        return Page([self._record(Item, row) for row in rows], next_cursor)

    def iter_items(self, tenant: str) -> Iterator[Item]:
        """Every item of the tenant (for training), read page by page."""
        return self._iter(tenant, ITEM, Item)

    def iter_users(self, tenant: str) -> Iterator[User]:
        """Every user of the tenant (for training: cold start by user properties), read page by page."""
        return self._iter(tenant, USER, User)

    def _iter(self, tenant: str, kind: str, record: type[Record]) -> Iterator[Record]:
        cursor: str | None = None
        while True:
            rows, cursor = query_page(self._table.query, tenant_key(tenant, kind), ITER_PAGE_SIZE, cursor)
            yield from (self._record(record, row) for row in rows)
            if cursor is None:
                return

    def get_items(self, tenant: str, item_ids: Iterable[str]) -> dict[str, Item]:
        """``{id: item}`` for the ids that exist (BatchGetItem, 100 at a time, unprocessed keys retried)."""
        partition = tenant_key(tenant, ITEM)
        keys = [{"pk": partition, "sk": item_id} for item_id in dict.fromkeys(item_ids)]
        rows = batch_get(
            self._table.meta.client,
            self._table.name,
            keys,
            sleep=self._sleep,
            max_attempts=self._max_attempts,
            busy_message="the catalog table is busy: retry in a few seconds",
        )
        found = {str(row["sk"]): self._record(Item, row) for row in rows}
        return found

    def _get(self, tenant: str, kind: str, record_id: str, record: type[Record]) -> Record | None:
        key = {"pk": tenant_key(tenant, kind), "sk": record_id}
        row = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return None if row is None else self._record(record, row)

    @staticmethod
    def _record(record: type[Record], row: dict[str, Any]) -> Record:
        updated_at = row.get("updated_at")
        return record(
            id=str(row["sk"]),
            properties=from_dynamo_properties(row.get("properties")),
            updated_at=datetime.fromisoformat(updated_at) if isinstance(updated_at, str) else None,
        )


@cached_store
def catalog_store() -> CatalogStore:
    return CatalogStore(dynamodb_table(get_settings().catalog_table))
