"""A table's definition as CreateTable states it: keys, global secondary indexes, TTL attribute."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from typing import Any

from local.dynamodb.errors import ValidationError
from local.dynamodb.values import AttributeValue, Item, key_text, type_of

TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
KEY_TYPES = frozenset({"S", "N", "B"})
MAX_HASH_KEY_BYTES = 2048
MAX_RANGE_KEY_BYTES = 1024
NO_RANGE = ""  # the stored range key of a table without one (a key string is never empty)


@dataclass(frozen=True)
class KeySchema:
    hash_name: str
    hash_type: str
    range_name: str | None = None
    range_type: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.hash_name,) if self.range_name is None else (self.hash_name, self.range_name)

    def stored(self, item: Item) -> tuple[str | bytes, str | bytes] | None:
        """The key as stored (``(hash, range)``), or None when the item lacks a key attribute."""
        hash_value = item.get(self.hash_name)
        if hash_value is None:
            return None
        if self.range_name is None:
            return key_text(hash_value), NO_RANGE
        range_value = item.get(self.range_name)
        if range_value is None:
            return None
        return key_text(hash_value), key_text(range_value)

    def key_of(self, item: Item) -> Item:
        return {name: item[name] for name in self.names}


@dataclass(frozen=True)
class IndexSchema:
    name: str
    key: KeySchema
    projection: str = "ALL"
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSchema:
    name: str
    key: KeySchema
    indexes: dict[str, IndexSchema] = field(default_factory=dict)
    ttl_attribute: str | None = None
    created: float = field(default_factory=time.time)
    billing_mode: str = "PAY_PER_REQUEST"

    def with_ttl(self, attribute: str | None) -> TableSchema:
        return replace(self, ttl_attribute=attribute)

    def check_key(self, key: Any, what: str = "key") -> Item:
        """A Key parameter: exactly the key attributes, of their declared types, not empty."""
        if not isinstance(key, dict) or set(key) != set(self.key.names):
            raise ValidationError("The provided key element does not match the schema")
        self.check_key_values(key, self.key)
        return key

    def check_key_values(self, item: Item, key: KeySchema, index: str | None = None) -> None:
        for name, wanted, limit in (
            (key.hash_name, key.hash_type, MAX_HASH_KEY_BYTES),
            (key.range_name, key.range_type, MAX_RANGE_KEY_BYTES),
        ):
            if name is None or name not in item:
                continue
            value = item[name]
            if type_of(value) != wanted:
                if index is None:
                    raise ValidationError(
                        f"One or more parameter values were invalid: Type mismatch for key {name} expected: "
                        f"{wanted} actual: {type_of(value)}"
                    )
                raise ValidationError(
                    f"One or more parameter values were invalid: Type mismatch for Index Key {name} Expected: "
                    f"{wanted} Actual: {type_of(value)} IndexName: {index}"
                )
            stored = check_key_text(value, name)
            size = len(stored.encode("utf-8")) if isinstance(stored, str) else len(stored)
            if size > limit:
                which = "hashkey" if name == key.hash_name else "rangekey"
                raise ValidationError(
                    f"One or more parameter values were invalid: Size of {which} has exceeded the maximum size "
                    f"limit of {limit} bytes"
                )

    def check_item(self, item: Item) -> None:
        """An item to put: every key attribute present and valid, index keys of the right types."""
        for name in self.key.names:
            if name not in item:
                raise ValidationError(f"One or more parameter values were invalid: Missing the key {name} in the item")
        self.check_key_values(item, self.key)
        for index in self.indexes.values():
            self.check_key_values(item, index.key, index.name)

    def describe(self, item_count: int = 0, size_bytes: int = 0) -> dict[str, Any]:
        attributes = {}
        for key in (self.key, *(index.key for index in self.indexes.values())):
            attributes[key.hash_name] = key.hash_type
            if key.range_name and key.range_type:
                attributes[key.range_name] = key.range_type
        description: dict[str, Any] = {
            "TableName": self.name,
            "TableArn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{self.name}",
            "TableStatus": "ACTIVE",
            "CreationDateTime": self.created,
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attributes.items()],
            "KeySchema": _key_schema(self.key),
            "ItemCount": item_count,
            "TableSizeBytes": size_bytes,
            "BillingModeSummary": {"BillingMode": self.billing_mode},
            "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0, "NumberOfDecreasesToday": 0},
        }
        if self.indexes:
            description["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index.name,
                    "KeySchema": _key_schema(index.key),
                    "Projection": _projection(index),
                    "IndexStatus": "ACTIVE",
                    "IndexArn": f"{description['TableArn']}/index/{index.name}",
                }
                for index in self.indexes.values()
            ]
        return description

    def to_json(self) -> dict[str, Any]:
        description = self.describe()
        description["TimeToLiveAttribute"] = self.ttl_attribute
        return description


def _key_schema(key: KeySchema) -> list[dict[str, str]]:
    schema = [{"AttributeName": key.hash_name, "KeyType": "HASH"}]
    if key.range_name:
        schema.append({"AttributeName": key.range_name, "KeyType": "RANGE"})
    return schema


def _projection(index: IndexSchema) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": index.projection}
    if index.non_key_attributes:
        projection["NonKeyAttributes"] = list(index.non_key_attributes)
    return projection


def check_key_text(value: AttributeValue, name: str) -> str | bytes:
    """A key value as stored, refused if empty or not valid UTF-8 (as DynamoDB refuses both)."""
    stored = key_text(value)
    if type_of(value) != "N" and not stored:
        raise ValidationError(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
            f"contain an empty string value. Key: {name}"
        )
    if isinstance(stored, str):
        try:
            stored.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(
                f"One or more parameter values were invalid: key {name} holds invalid UTF-8"
            ) from None
    return stored


def parse_key_schema(schema: Any, types: dict[str, str], where: str) -> KeySchema:
    if not isinstance(schema, list) or not 1 <= len(schema) <= 2:
        raise ValidationError(f"1 validation error detected: Value at '{where}' failed to satisfy constraint")
    roles = {}
    for element in schema:
        if not isinstance(element, dict) or element.get("KeyType") not in ("HASH", "RANGE"):
            raise ValidationError(f"Invalid KeySchema in {where}")
        name = element.get("AttributeName")
        if name not in types:
            raise ValidationError(
                "One or more parameter values were invalid: Some index key attributes are not defined in "
                f"AttributeDefinitions. Keys: [{name}], AttributeDefinitions: {sorted(types)}"
            )
        roles[element["KeyType"]] = name
    if "HASH" not in roles or schema[0].get("KeyType") != "HASH":
        raise ValidationError(f"Invalid KeySchema in {where}: the first key must be the HASH key")
    range_name = roles.get("RANGE")
    return KeySchema(roles["HASH"], types[roles["HASH"]], range_name, types[range_name] if range_name else None)


def table_schema(request: dict[str, Any]) -> TableSchema:
    """A CreateTable request as a schema; the errors DynamoDB gives for a malformed one."""
    name = request.get("TableName")
    if not isinstance(name, str) or not TABLE_NAME.match(name):
        raise ValidationError(f"TableName must be 3-255 characters of [a-zA-Z0-9_.-]: {name!r}")
    if request.get("LocalSecondaryIndexes"):
        raise ValidationError("LocalSecondaryIndexes are not supported by the local DynamoDB store")
    types: dict[str, str] = {}
    for definition in request.get("AttributeDefinitions") or []:
        kind = definition.get("AttributeType")
        if kind not in KEY_TYPES:
            raise ValidationError(f"Invalid AttributeType {kind!r}: keys are S, N or B")
        types[definition["AttributeName"]] = kind
    key = parse_key_schema(request.get("KeySchema"), types, "keySchema")
    indexes = {}
    for index in request.get("GlobalSecondaryIndexes") or []:
        if not TABLE_NAME.match(str(index.get("IndexName"))):
            raise ValidationError(f"IndexName must be 3-255 characters of [a-zA-Z0-9_.-]: {index.get('IndexName')!r}")
        projection = index.get("Projection") or {}
        kind = projection.get("ProjectionType", "ALL")
        if kind not in ("ALL", "KEYS_ONLY", "INCLUDE"):
            raise ValidationError(f"Invalid ProjectionType {kind!r}")
        indexes[index["IndexName"]] = IndexSchema(
            index["IndexName"],
            parse_key_schema(index.get("KeySchema"), types, f"globalSecondaryIndexes.{index['IndexName']}"),
            kind,
            tuple(projection.get("NonKeyAttributes") or ()),
        )
    used = set(key.names) | {n for index in indexes.values() for n in index.key.names}
    if set(types) - used:
        raise ValidationError(
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match "
            "number of attributes defined in AttributeDefinitions"
        )
    return TableSchema(name, key, indexes, billing_mode=request.get("BillingMode") or "PAY_PER_REQUEST")


def schema_from_json(stored: dict[str, Any]) -> TableSchema:
    schema = table_schema(stored)
    return replace(schema, ttl_attribute=stored.get("TimeToLiveAttribute"), created=stored["CreationDateTime"])


def projected(item: Item, table: TableSchema, index: IndexSchema | None) -> Item:
    """What an index holds of an item (its projection)."""
    if index is None or index.projection == "ALL":
        return item
    names = set(table.key.names) | set(index.key.names)
    if index.projection == "INCLUDE":
        names |= set(index.non_key_attributes)
    return {name: value for name, value in item.items() if name in names}
