"""Query and Scan: key conditions as SQLite ranges, then filters, projections, pages of at most 1 MB."""

from __future__ import annotations

import zlib
from contextlib import closing
from typing import Any

from local.dynamodb.encoding import StoredJSON
from local.dynamodb.errors import ValidationError
from local.dynamodb.expressions import Condition, Parser, parse_condition, parse_projection
from local.dynamodb.items import placeholders
from local.dynamodb.operands import Path, Placeholders, project
from local.dynamodb.schema import IndexSchema, KeySchema, TableSchema, check_key_text, projected
from local.dynamodb.storage import Database, Range, Row
from local.dynamodb.values import AttributeValue, Item, key_text, normalise_item, scalar, type_of

MAX_PAGE_BYTES = 1024 * 1024  # a Query or Scan page stops after 1 MB of items read
KIND = "KeyConditionExpression"
RANGE_OPERATORS = {"=": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class KeyConditionParser(Parser):
    """``hash = :v [AND range <op> :v | range BETWEEN :a AND :b | begins_with(range, :p)]``."""

    def terms(self) -> list[tuple[str, Path, list[AttributeValue]]]:
        terms = self._conjunction()
        self.done()
        return terms

    def _conjunction(self) -> list[tuple[str, Path, list[AttributeValue]]]:
        terms = self._term()
        while self.keyword("AND"):
            terms += self._term()
        return terms

    def _term(self) -> list[tuple[str, Path, list[AttributeValue]]]:
        token = self.peek()
        if token.kind == "punct" and token.text == "(":
            self.position += 1
            terms = self._conjunction()
            self.take("punct", ")")
            return terms
        if token.kind == "name" and self.peek(1).text == "(":
            if token.text != "begins_with":
                raise ValidationError(f"Invalid {KIND}: Invalid operator used in KeyConditionExpression: {token.text}")
            self.position += 2
            path = self.path()
            self.take("punct", ",")
            value = self._value()
            self.take("punct", ")")
            return [("begins_with", path, [value])]
        path = self.path()
        if self.keyword("BETWEEN"):
            low = self._value()
            self.take("name", "AND")
            return [("between", path, [low, self._value()])]
        operator = self.take("op").text
        if operator == "<>":
            raise ValidationError(f"Invalid {KIND}: Invalid operator used in KeyConditionExpression: <>")
        return [(operator, path, [self._value()])]

    def _value(self) -> AttributeValue:
        token = self.take("value")
        return self.placeholders.value(token.text, KIND)


def key_condition(text: Any, given: Placeholders, key: KeySchema) -> tuple[str | bytes, Range | None]:
    """The stored hash key and the sort-key range a key condition stands for."""
    if not isinstance(text, str):
        raise ValidationError(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
        )
    terms = KeyConditionParser(text, KIND, given).terms()
    hash_terms = [t for t in terms if len(t[1].elements) == 1 and t[1].elements[0] == key.hash_name]
    range_terms = [t for t in terms if len(t[1].elements) == 1 and t[1].elements[0] == key.range_name]
    if len(hash_terms) != 1 or hash_terms[0][0] != "=":
        raise ValidationError(f"Query condition missed key schema element: {key.hash_name}")
    if len(terms) != len(hash_terms) + len(range_terms) or len(range_terms) > 1:
        extra = (
            next(str(t[1]) for t in terms if t not in hash_terms and t not in range_terms)
            if len(terms) > 2
            else key.range_name
        )
        raise ValidationError(f"Query key condition not supported: {extra}")
    hash_value = hash_terms[0][2][0]
    _check_type(hash_value, key.hash_type, key.hash_name)
    if not range_terms:
        return key_text(hash_value), None
    operator, _, values = range_terms[0]
    assert key.range_type is not None
    for value in values:
        _check_type(value, key.range_type, str(key.range_name))
    if operator == "begins_with" and key.range_type == "N":
        raise ValidationError(
            f"Invalid {KIND}: Incorrect operand type for operator or function; operator or function: "
            "begins_with, operand type: N"
        )
    if operator == "between":
        if scalar(values[0]) > scalar(values[1]):  # type: ignore[operator]
            raise ValidationError(
                f"Invalid {KIND}: The BETWEEN operator requires upper bound to be greater than or equal to lower bound"
            )
        return key_text(hash_value), Range("between", key_text(values[0]), key_text(values[1]))
    return key_text(hash_value), Range(RANGE_OPERATORS.get(operator, operator), key_text(values[0]))


def _check_type(value: AttributeValue, wanted: str, name: str) -> None:
    if type_of(value) != wanted:
        raise ValidationError(
            f"One or more parameter values were invalid: Condition parameter type does not match schema type for {name}"
        )
    check_key_text(value, name)


def _index(schema: TableSchema, request: dict[str, Any]) -> IndexSchema | None:
    name = request.get("IndexName")
    if name is None:
        return None
    if name not in schema.indexes:
        raise ValidationError(f"The table does not have the specified index: {name}")
    if request.get("ConsistentRead"):
        raise ValidationError("Consistent reads are not supported on global secondary indexes")
    return schema.indexes[name]


def _limit(request: dict[str, Any]) -> int | None:
    limit = request.get("Limit")
    if limit is None:
        return None
    if not isinstance(limit, int) or limit < 1:
        raise ValidationError(
            "1 validation error detected: Value at 'limit' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1"
        )
    return limit


def _start_after(
    schema: TableSchema, index: IndexSchema | None, request: dict[str, Any], whole_table: bool
) -> tuple[Any, ...] | None:
    start = request.get("ExclusiveStartKey")
    if start is None:
        return None
    start = normalise_item(start, "ExclusiveStartKey")
    table_key = schema.key.stored(start)
    names = set(schema.key.names) | (set(index.key.names) if index else set())
    if table_key is None or set(start) != names:
        raise ValidationError(
            "The provided starting key is invalid: The provided key element does not match the schema"
        )
    if index is None:
        return table_key if whole_table else (table_key[1],)
    index_key = index.key.stored(start)
    if index_key is None:
        raise ValidationError(
            "The provided starting key is invalid: The provided key element does not match the schema"
        )
    return (*index_key, *table_key) if whole_table else (index_key[1], *table_key)


def _page(
    rows: Any,
    schema: TableSchema,
    index: IndexSchema | None,
    request: dict[str, Any],
    filter_: Condition | None,
    paths: list[Path] | None,
    limit: int | None,
    keep: Any = None,
) -> dict[str, Any]:
    items: list[Any] = []
    scanned = size = 0
    last: Row | None = None
    stopped = False
    for row in rows:
        if keep is not None and not keep(row):
            continue
        scanned += 1
        size += row.size
        last = row
        item: Item | None = None
        if filter_ is not None:
            item = projected(row.item(), schema, index)  # a filter sees what the index holds, no more
            if not filter_(item):
                if (limit is not None and scanned >= limit) or size >= MAX_PAGE_BYTES:
                    stopped = True
                    break
                continue
        if paths is not None:
            items.append(project(projected(item or row.item(), schema, index), paths))
        elif index is not None and index.projection != "ALL":
            items.append(projected(item or row.item(), schema, index))
        else:
            items.append(StoredJSON(row.doc))
        if (limit is not None and scanned >= limit) or size >= MAX_PAGE_BYTES:
            stopped = True
            break
    select = request.get("Select") or "ALL_ATTRIBUTES"
    response: dict[str, Any] = {"Count": len(items), "ScannedCount": scanned}
    if select != "COUNT":
        response["Items"] = items
    if stopped and last is not None:
        last_item = last.item()
        names = list(schema.key.names) + (list(index.key.names) if index else [])
        response["LastEvaluatedKey"] = {name: last_item[name] for name in dict.fromkeys(names)}
    return response


def _reading(request: dict[str, Any], given: Placeholders) -> tuple[Condition | None, list[Path] | None]:
    text = request.get("FilterExpression")
    filter_ = None if text is None else parse_condition(text, "FilterExpression", given)
    projection = request.get("ProjectionExpression")
    paths = None if projection is None else parse_projection(projection, given)
    select = request.get("Select")
    if select not in (None, "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"):
        raise ValidationError(
            f"Select must be ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES, SPECIFIC_ATTRIBUTES or COUNT: {select!r}"
        )
    return filter_, paths


def _check_select(index: IndexSchema | None, request: dict[str, Any]) -> None:
    if index is not None and index.projection != "ALL" and request.get("Select") == "ALL_ATTRIBUTES":
        raise ValidationError(
            f"One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global "
            f"secondary index {index.name} because its projection type is not ALL"
        )


def query(database: Database, request: dict[str, Any]) -> dict[str, Any]:
    schema = database.schema(request.get("TableName", ""))
    index = _index(schema, request)
    _check_select(index, request)
    given = placeholders(request)
    hash_key, condition = key_condition(request.get("KeyConditionExpression"), given, (index or schema).key)
    filter_, paths = _reading(request, given)
    given.check_all_used()
    limit = _limit(request)
    after = _start_after(schema, index, request, whole_table=False)
    forward = request.get("ScanIndexForward", True) is not False
    with (
        database.read() as connection,
        closing(database.rows(connection, schema, index, hash_key, condition, forward=forward, after=after)) as rows,
    ):
        return _page(rows, schema, index, request, filter_, paths, limit)


def scan(database: Database, request: dict[str, Any]) -> dict[str, Any]:
    schema = database.schema(request.get("TableName", ""))
    index = _index(schema, request)
    _check_select(index, request)
    given = placeholders(request)
    filter_, paths = _reading(request, given)
    given.check_all_used()
    limit = _limit(request)
    after = _start_after(schema, index, request, whole_table=True)
    segment, total = request.get("Segment"), request.get("TotalSegments")
    keep = None
    if (segment is None) != (total is None):
        raise ValidationError("Segment and TotalSegments go together")
    if total is not None:
        if not (
            isinstance(total, int) and 1 <= total <= 1_000_000 and isinstance(segment, int) and 0 <= segment < total
        ):
            raise ValidationError("Segment must be in 0 .. TotalSegments - 1, and TotalSegments in 1 .. 1000000")

        def keep(row: Row) -> bool:  # a partition belongs to one segment, as in DynamoDB
            hash_key = row.key[0]
            return zlib.crc32(hash_key if isinstance(hash_key, bytes) else hash_key.encode()) % total == segment

    with (
        database.read() as connection,
        closing(database.rows(connection, schema, index, None, None, after=after)) as rows,
    ):
        return _page(rows, schema, index, request, filter_, paths, limit, keep)
