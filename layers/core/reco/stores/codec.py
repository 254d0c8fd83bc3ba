"""What crosses the DynamoDB boundary: property values (numbers as Decimal), page cursors, retries."""

from __future__ import annotations

import base64
import binascii
import json
import random
from collections.abc import Callable, Mapping
from decimal import Context, Decimal
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from reco.errors import MalformedCursor, ServiceUnavailable
from reco.observability import logger
from reco.records import Properties, PropertyValue

T = TypeVar("T")
DYNAMODB_DIGITS = Context(prec=38)
# DynamoDB stores no non-zero number smaller in magnitude than 1e-130: such a float is stored as 0.
DYNAMODB_SMALLEST = 1e-130
MAX_SORT_KEY_BYTES = 1024
MAX_CURSOR_CHARS = 4096
# Errors that say "not now" rather than "never": the same request may succeed after a pause.
RETRYABLE_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 1.0


def to_dynamo(value: PropertyValue) -> Any:
    """A property value as boto3 stores it: numbers become exact Decimals, the rest is unchanged."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        number = Decimal(value)
        # Trailing zeros beyond 38 digits (10**40) are exact once normalised to 1E+40.
        return number.normalize(DYNAMODB_DIGITS) if len(number.as_tuple().digits) > 38 else number
    if isinstance(value, float):
        return _float_to_dynamo(value)
    return list(value)


def _float_to_dynamo(value: float) -> Decimal:
    """The shortest decimal that reads back as the same float; 0 below DynamoDB's smallest magnitude
    (storing 5e-261 would fail the whole write with an Underflow)."""
    return Decimal(0) if abs(value) < DYNAMODB_SMALLEST else Decimal(str(value))


def number_from_dynamo(value: Decimal) -> int | float:
    """An integral Decimal is an int (5 stays 5; 12.0 was stored as 12), any other a float."""
    return int(value) if value == value.to_integral_value() else float(value)


def from_dynamo(value: Any) -> PropertyValue:
    """A stored value as the API returns it: numbers as int or float, the rest unchanged."""
    if isinstance(value, Decimal):
        return number_from_dynamo(value)
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, bool | str):
        return value
    return str(value)


def to_dynamo_document(value: Any) -> Any:
    """A JSON document (model params, rules, metrics, request context) as boto3 stores it."""
    if isinstance(value, float):
        return _float_to_dynamo(value)
    if isinstance(value, dict):
        return {k: to_dynamo_document(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_dynamo_document(v) for v in value]
    return value


def from_dynamo_document(value: Any) -> Any:
    """A stored JSON document as the API returns it (integral numbers as ints)."""
    if isinstance(value, Decimal):
        return number_from_dynamo(value)
    if isinstance(value, dict):
        return {k: from_dynamo_document(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo_document(v) for v in value]
    return value


def to_dynamo_properties(properties: Mapping[str, PropertyValue]) -> dict[str, Any]:
    return {name: to_dynamo(value) for name, value in properties.items()}


def from_dynamo_properties(stored: Mapping[str, Any] | None) -> Properties:
    return {name: from_dynamo(value) for name, value in (stored or {}).items()}


def encode_cursor(row: Mapping[str, Any]) -> str:
    """An opaque, URL-safe cursor: the key of the last row of a page."""
    raw = json.dumps([row["pk"], row["sk"]], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, partition: str) -> dict[str, str]:
    """The key a cursor stands for, if it was issued for ``partition`` (this tenant's, this list's)."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        pk, sk = json.loads(raw)
        if not isinstance(pk, str) or not isinstance(sk, str) or not 0 < len(sk.encode()) <= MAX_SORT_KEY_BYTES:
            raise ValueError("not a key")
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise MalformedCursor("cursor is malformed: pass the next_cursor of the previous page unchanged") from None
    if pk != partition:
        raise MalformedCursor("cursor was issued for another list: pass the next_cursor that this list returned")
    return {"pk": pk, "sk": sk}


def query_page(
    query: Callable[..., dict[str, Any]], partition: str, limit: int, cursor: str | None, **params: Any
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` rows of one partition after ``cursor``, and the cursor of the next page.

    Reads one row past the page, so the last page says ``None`` instead of leading to an empty one.
    Rows dropped by a ``FilterExpression`` (expired events) do not count towards the page.
    """
    start = decode_cursor(cursor, partition) if cursor else None
    rows: list[dict[str, Any]] = []
    while True:
        request = {**params, "KeyConditionExpression": "pk = :pk", "Limit": limit - len(rows) + 1}
        request["ExpressionAttributeValues"] = {**params.get("ExpressionAttributeValues", {}), ":pk": partition}
        if start:
            request["ExclusiveStartKey"] = start
        response = query(**request)
        rows.extend(response.get("Items", []))
        start = response.get("LastEvaluatedKey")
        if len(rows) > limit or not start:
            break
    if len(rows) > limit:
        del rows[limit:]
        return rows, encode_cursor(rows[-1])
    return rows, None


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter (concurrent writers do not retry in step)."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))  # noqa: S311


BATCH_GET_SIZE = 100  # DynamoDB's BatchGetItem limit


def batch_get(
    client: Any,
    table_name: str,
    keys: list[dict[str, str]],
    *,
    sleep: Callable[[float], None],
    max_attempts: int = MAX_ATTEMPTS,
    busy_message: str,
) -> list[dict[str, Any]]:
    """The rows that exist among ``keys`` (BatchGetItem, 100 at a time, unprocessed keys retried)."""
    rows: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_SIZE):
        pending = keys[start : start + BATCH_GET_SIZE]
        attempt = 0
        while pending:
            response = client.batch_get_item(RequestItems={table_name: {"Keys": pending}})
            rows.extend(response.get("Responses", {}).get(table_name, []))
            pending = response.get("UnprocessedKeys", {}).get(table_name, {}).get("Keys", [])
            if pending:
                attempt += 1
                if attempt >= max_attempts:
                    raise ServiceUnavailable(busy_message)
                sleep(backoff_seconds(attempt))
    return rows


def decoded_or_none(row: Mapping[str, Any], decode: Callable[[Mapping[str, Any]], T], what: str) -> T | None:
    """``decode(row)``, or ``None`` with a warning in the log if the stored row cannot be decoded.

    A row written before a limit existed (or by hand) must cost its own read, not every list and
    write of its tenant: lists skip it, single reads answer that it needs rewriting.
    """
    try:
        return decode(row)
    except (ValueError, TypeError, KeyError, RecursionError) as error:
        logger.warning(
            f"stored {what} skipped: it cannot be decoded",
            extra={"pk": row.get("pk"), "sk": row.get("sk"), "error": str(error)[:300]},
        )
        return None
