"""Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem, and what batches and transactions share."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from local.dynamodb.encoding import StoredJSON
from local.dynamodb.errors import ConditionalCheckFailed, InternalServerError, ValidationError
from local.dynamodb.expressions import Condition, parse_condition, parse_projection
from local.dynamodb.operands import Path, Placeholders, project
from local.dynamodb.schema import TableSchema
from local.dynamodb.storage import Database, Row, StaleSchema, encoded
from local.dynamodb.updates import Action, apply_update, check_key_untouched, parse_update
from local.dynamodb.values import Item, normalise, normalise_item

T = TypeVar("T")
R = TypeVar("R")
LEGACY = (
    "Expected",
    "AttributesToGet",
    "AttributeUpdates",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
    "ConditionalOperator",
)


def placeholders(request: dict[str, Any]) -> Placeholders:
    names = request.get("ExpressionAttributeNames")
    values = request.get("ExpressionAttributeValues")
    for legacy in LEGACY:
        if legacy in request:
            raise ValidationError(f"{legacy} is a legacy parameter: use the expression parameters instead")
    if names is not None and not names:
        raise ValidationError("ExpressionAttributeNames must not be empty")
    if values is not None and not values:
        raise ValidationError("ExpressionAttributeValues must not be empty")
    checked = {}
    for name, value in (values or {}).items():
        if not name.startswith(":"):
            raise ValidationError(f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{name}"')
        checked[name] = normalise(value, name)
    for name in names or {}:
        if not name.startswith("#"):
            raise ValidationError(f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{name}"')
    return Placeholders(dict(names or {}), checked)


def condition_of(request: dict[str, Any], given: Placeholders) -> Condition | None:
    text = request.get("ConditionExpression")
    return None if text is None else parse_condition(text, "ConditionExpression", given)


def return_values(request: dict[str, Any], allowed: tuple[str, ...]) -> str:
    value = request.get("ReturnValues") or "NONE"
    if value not in allowed:
        raise ValidationError(f"ReturnValues must be one of {', '.join(allowed)}: {value!r}")
    return str(value)


def condition_failed(old: Row | None, request: dict[str, Any]) -> ConditionalCheckFailed:
    extra = {}
    if old is not None and request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
        extra["Item"] = StoredJSON(old.doc)
    return ConditionalCheckFailed("The conditional request failed", **extra)


@dataclass
class Write:
    """One checked write of a request (a put, an update or a delete), ready to apply under the write lock."""

    schema: TableSchema
    key: Item
    condition: Condition | None
    request: dict[str, Any]
    item: Item | None = None  # PutItem's item, with its JSON text and size
    encoded: tuple[str, int] | None = None
    actions: list[Action] | None = None  # UpdateItem's actions
    delete: bool = False
    check_only: bool = False

    stored_key: tuple[Any, Any] = field(init=False)

    def __post_init__(self) -> None:
        stored = self.schema.key.stored(self.key)
        assert stored is not None
        self.stored_key = stored

    @property
    def reads_old(self) -> bool:
        """Whether applying it needs the stored item (a condition to check, an update to apply)."""
        return self.condition is not None or self.actions is not None or self.check_only

    def passes(self, old: Row | None) -> bool:
        return self.condition is None or self.condition(old.item() if old else {})

    def apply(self, database: Database, connection: sqlite3.Connection, old: Row | None) -> Item | None:
        """Write it; returns the new item (None once deleted)."""
        if self.check_only:
            return old.item() if old else None
        if self.delete:
            database.delete(connection, self.schema, self.stored_key)
            return None
        if self.actions is not None:
            new = apply_update(old.item() if old else dict(self.key), self.actions, set(self.schema.key.names))
            self.schema.check_item(new)
            doc, size = encoded(new)
        else:
            assert self.item is not None and self.encoded is not None
            new, (doc, size) = self.item, self.encoded
        database.put(connection, self.schema, new, doc, size)
        return new


def put_write(database: Database, request: dict[str, Any]) -> Write:
    schema = database.schema(request.get("TableName", ""))
    item = normalise_item(request.get("Item"))
    schema.check_item(item)
    given = placeholders(request)
    condition = condition_of(request, given)
    given.check_all_used()
    return Write(schema, schema.key.key_of(item), condition, request, item=item, encoded=encoded(item))


def update_write(database: Database, request: dict[str, Any]) -> Write:
    schema = database.schema(request.get("TableName", ""))
    key = schema.check_key(normalise_item(request.get("Key"), "Key"))
    given = placeholders(request)
    text = request.get("UpdateExpression")
    actions = [] if text is None else parse_update(text, given)
    check_key_untouched(actions, schema.key.names)
    condition = condition_of(request, given)
    given.check_all_used()
    return Write(schema, key, condition, request, actions=actions)


def delete_write(database: Database, request: dict[str, Any], *, check_only: bool = False) -> Write:
    schema = database.schema(request.get("TableName", ""))
    key = schema.check_key(normalise_item(request.get("Key"), "Key"))
    given = placeholders(request)
    condition = condition_of(request, given)
    if check_only and condition is None:
        raise ValidationError("ConditionCheck needs a ConditionExpression")
    given.check_all_used()
    return Write(schema, key, condition, request, delete=not check_only, check_only=check_only)


PREPARE_ATTEMPTS = 5


def prepared(database: Database, prepare: Callable[[], T], apply: Callable[[T, sqlite3.Connection], R]) -> R:
    """``apply(prepare())`` under the write lock, prepared again if a table definition changed meanwhile."""
    for _ in range(PREPARE_ATTEMPTS):
        version = database.schema_version
        writes = prepare()
        try:
            with database.write_at(version) as connection:
                return apply(writes, connection)
        except StaleSchema:
            continue
    raise InternalServerError("table definitions kept changing while this write was prepared: send it again")


def single_write(database: Database, prepare: Callable[[], Write], returns: str) -> dict[str, Any]:
    def apply(write: Write, connection: sqlite3.Connection) -> tuple[Write, Row | None, Item | None]:
        old = database.get(connection, write.schema, write.stored_key)
        if not write.passes(old):
            raise condition_failed(old, write.request)
        return write, old, write.apply(database, connection, old)

    write, old, new = prepared(database, prepare, apply)
    if returns == "NONE" or (returns.endswith("_OLD") and old is None):
        return {}
    if returns == "ALL_OLD":
        return {"Attributes": StoredJSON(old.doc)}  # type: ignore[union-attr]
    if returns == "ALL_NEW":
        return {"Attributes": new}
    # UPDATED_*: the updated paths only (nested ones as nested), before or after the update
    source = old.item() if returns == "UPDATED_OLD" else new  # type: ignore[union-attr]
    return {"Attributes": project(source or {}, [action.path for action in write.actions or []])}


def put_item(database: Database, request: dict[str, Any]) -> dict[str, Any]:
    returns = return_values(request, ("NONE", "ALL_OLD"))
    return single_write(database, lambda: put_write(database, request), returns)


def update_item(database: Database, request: dict[str, Any]) -> dict[str, Any]:
    returns = return_values(request, ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"))
    return single_write(database, lambda: update_write(database, request), returns)


def delete_item(database: Database, request: dict[str, Any]) -> dict[str, Any]:
    returns = return_values(request, ("NONE", "ALL_OLD"))
    return single_write(database, lambda: delete_write(database, request), returns)


@dataclass(frozen=True)
class KeyRead:
    """One checked read by key (GetItem, or a Get of TransactGetItems): the table, the stored key, the projection."""

    schema: TableSchema
    stored_key: tuple[Any, Any]
    paths: list[Path] | None

    def answer(self, row: Row | None) -> dict[str, Any]:
        if row is None:
            return {}
        return {"Item": StoredJSON(row.doc) if self.paths is None else project(row.item(), self.paths)}


def key_read(database: Database, request: dict[str, Any]) -> KeyRead:
    schema = database.schema(request.get("TableName", ""))
    key = schema.check_key(normalise_item(request.get("Key"), "Key"))
    given = placeholders(request)
    projection = request.get("ProjectionExpression")
    paths = None if projection is None else parse_projection(projection, given)
    given.check_all_used()
    stored = schema.key.stored(key)
    assert stored is not None
    return KeyRead(schema, stored, paths)


def get_item(database: Database, request: dict[str, Any]) -> dict[str, Any]:
    read = key_read(database, request)
    with database.read() as connection:
        return read.answer(database.get(connection, read.schema, read.stored_key))
