"""BatchGetItem, BatchWriteItem, TransactWriteItems and TransactGetItems, with DynamoDB's limits and checks."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from typing import Any

from local.dynamodb.encoding import StoredJSON
from local.dynamodb.errors import DynamoDBError, TransactionCanceled, ValidationError
from local.dynamodb.expressions import parse_projection
from local.dynamodb.items import Write, delete_write, key_read, placeholders, prepared, put_write, update_write
from local.dynamodb.operands import project
from local.dynamodb.storage import Database, Row
from local.dynamodb.values import normalise_item

MAX_BATCH_GET = 100
MAX_BATCH_WRITE = 25
MAX_TRANSACTION = 100
TOKEN_SECONDS = 600  # a ClientRequestToken makes a transaction idempotent for 10 minutes


class IdempotentParameterMismatch(DynamoDBError):
    code = "IdempotentParameterMismatchException"


def batch_get_item(database: Database, request: dict[str, Any]) -> dict[str, Any]:
    tables = request.get("RequestItems") or {}
    if not tables:
        raise ValidationError("RequestItems must not be empty")
    wanted = []
    for name, spec in tables.items():
        schema = database.schema(name)
        keys = [schema.check_key(normalise_item(key, "Key")) for key in spec.get("Keys") or []]
        if not keys:
            raise ValidationError(f"Keys of {name} must not be empty")
        stored = [schema.key.stored(key) for key in keys]
        if len(set(stored)) != len(stored):
            raise ValidationError("Provided list of item keys contains duplicates")
        given = placeholders(spec)
        text = spec.get("ProjectionExpression")
        paths = None if text is None else parse_projection(text, given)
        given.check_all_used()
        wanted.append((schema, stored, paths))
    if sum(len(stored) for _, stored, _ in wanted) > MAX_BATCH_GET:
        raise ValidationError(f"Too many items requested for the BatchGetItem call: at most {MAX_BATCH_GET}")
    responses: dict[str, list[Any]] = {}
    with database.read() as connection:
        for schema, stored, paths in wanted:
            found = responses.setdefault(schema.name, [])
            for key in stored:
                row = database.get(connection, schema, key)  # type: ignore[arg-type]
                if row is not None:
                    found.append(StoredJSON(row.doc) if paths is None else project(row.item(), paths))
    return {"Responses": responses, "UnprocessedKeys": {}}


def batch_write_item(database: Database, request: dict[str, Any]) -> dict[str, Any]:
    tables = request.get("RequestItems") or {}
    if not tables:
        raise ValidationError("RequestItems must not be empty")

    def prepare() -> list[Write]:
        writes: list[Write] = []
        for name, entries in tables.items():
            seen = set()
            for entry in entries or []:
                if not isinstance(entry, dict) or len(entry) != 1:
                    raise ValidationError("Each write request holds exactly one of PutRequest or DeleteRequest")
                if "PutRequest" in entry:
                    write = put_write(database, {"TableName": name, "Item": (entry["PutRequest"] or {}).get("Item")})
                elif "DeleteRequest" in entry:
                    write = delete_write(
                        database, {"TableName": name, "Key": (entry["DeleteRequest"] or {}).get("Key")}
                    )
                else:
                    raise ValidationError("Each write request holds exactly one of PutRequest or DeleteRequest")
                if write.stored_key in seen:
                    raise ValidationError("Provided list of item keys contains duplicates")
                seen.add(write.stored_key)
                writes.append(write)
        if not writes or len(writes) > MAX_BATCH_WRITE:
            raise ValidationError(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must "
                f"have length less than or equal to {MAX_BATCH_WRITE}"
                if writes
                else "RequestItems holds no write requests"
            )
        return writes

    def apply(writes: list[Write], connection: sqlite3.Connection) -> None:
        # All at once: DynamoDB may apply a batch in part (naming the rest in UnprocessedItems); here it never needs to.
        for write in writes:
            write.apply(database, connection, None)  # unconditional puts and deletes: the old item is not needed

    prepared(database, prepare, apply)
    return {"UnprocessedItems": {}}


class TransactionTokens:
    """ClientRequestTokens of transactions that succeeded in the last 10 minutes, with a digest of their request."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[float, str]] = {}

    @staticmethod
    def _digest(request: dict[str, Any]) -> str:
        return hashlib.sha256(json.dumps(request.get("TransactItems"), sort_keys=True).encode()).hexdigest()

    def succeeded_before(self, token: str | None, request: dict[str, Any]) -> bool:
        """Whether this request already succeeded (call under the write lock); a reused token is an error."""
        if not token:
            return False
        now = time.monotonic()
        self._seen = {t: seen for t, seen in self._seen.items() if now - seen[0] < TOKEN_SECONDS}
        previous = self._seen.get(token)
        if previous is None:
            return False
        if previous[1] != self._digest(request):
            raise IdempotentParameterMismatch(
                "The request uses the same client token as a previous, but non-identical request."
            )
        return True

    def remember(self, token: str | None, request: dict[str, Any]) -> None:
        if token:
            self._seen[token] = (time.monotonic(), self._digest(request))


def transact_write_items(database: Database, request: dict[str, Any], tokens: TransactionTokens) -> dict[str, Any]:
    entries = request.get("TransactItems") or []
    if not entries or len(entries) > MAX_TRANSACTION:
        raise ValidationError(
            f"1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have "
            f"length less than or equal to {MAX_TRANSACTION}"
            if entries
            else "TransactItems must not be empty"
        )

    def prepare() -> list[Write]:
        writes: list[Write] = []
        for entry in entries:
            if not isinstance(entry, dict) or len(entry) != 1:
                raise ValidationError("Each TransactItem holds exactly one of Put, Update, Delete or ConditionCheck")
            ((kind, body),) = entry.items()
            body = body or {}
            if kind == "Put":
                writes.append(put_write(database, body))
            elif kind == "Update":
                writes.append(update_write(database, body))
            elif kind == "Delete":
                writes.append(delete_write(database, body))
            elif kind == "ConditionCheck":
                writes.append(delete_write(database, body, check_only=True))
            else:
                raise ValidationError(f"Unknown TransactItem {kind!r}: use Put, Update, Delete or ConditionCheck")
        targets = [(write.schema.name, write.stored_key) for write in writes]
        if len(set(targets)) != len(targets):
            raise ValidationError("Transaction request cannot include multiple operations on one item")
        return writes

    token = request.get("ClientRequestToken")

    def apply(writes: list[Write], connection: sqlite3.Connection) -> None:
        if tokens.succeeded_before(token, request):
            return
        olds = [
            database.get(connection, write.schema, write.stored_key) if write.reads_old else None for write in writes
        ]
        passed = [write.passes(old) for write, old in zip(writes, olds, strict=True)]
        if not all(passed):
            raise TransactionCanceled(
                [
                    {"Code": "None"} if ok else _condition_reason(write, old)
                    for write, old, ok in zip(writes, olds, passed, strict=True)
                ]
            )
        for position, (write, old) in enumerate(zip(writes, olds, strict=True)):
            try:
                write.apply(database, connection, old)
            except ValidationError as error:  # the item cannot be written: the transaction is cancelled
                reasons: list[dict[str, Any]] = [{"Code": "None"} for _ in writes]
                reasons[position] = {"Code": "ValidationError", "Message": error.message}
                raise TransactionCanceled(reasons) from None
        tokens.remember(token, request)

    prepared(database, prepare, apply)
    return {}


def _condition_reason(write: Write, old: Row | None) -> dict[str, Any]:
    reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
    if old is not None and write.request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
        reason["Item"] = StoredJSON(old.doc)
    return reason


def transact_get_items(database: Database, request: dict[str, Any]) -> dict[str, Any]:
    entries = request.get("TransactItems") or []
    if not entries or len(entries) > MAX_TRANSACTION:
        raise ValidationError(f"TransactItems holds 1 to {MAX_TRANSACTION} Get requests")
    gets = []
    for entry in entries:
        body = (entry or {}).get("Get")
        if not isinstance(body, dict):
            raise ValidationError("Each TransactItem of TransactGetItems holds a Get")
        gets.append(key_read(database, body))
    with database.read() as connection:
        connection.execute("BEGIN")  # one snapshot for every Get
        responses = [read.answer(database.get(connection, read.schema, read.stored_key)) for read in gets]
        connection.execute("COMMIT")
    return {"Responses": responses}
