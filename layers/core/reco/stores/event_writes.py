"""Writing events: whole events per DynamoDB transaction, each with its idempotency marker.

An event is 2 or 3 writes: the marker ``<tenant>#event#<event_id>`` / ``-`` (put with
``attribute_not_exists(pk)``), then its user copy and/or its session copy. A transaction cancelled
because some markers exist names them in ``CancellationReasons``: those events are duplicates and
leave the transaction, the others are written by the retry.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any, cast

from botocore.exceptions import ClientError

from reco.records import Event, iso_millis
from reco.stores.aws import tenant_key
from reco.stores.codec import (
    MAX_ATTEMPTS,
    RETRYABLE_ERRORS,
    backoff_seconds,
    error_code,
    to_dynamo,
    to_dynamo_properties,
)

USER = "user"
SESSION = "session"
MARKER = "event"
SHARDS = 16
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit
MAX_TRANSACTION_BYTES = 3_000_000  # of its 4 MB limit, counted generously


def shard_of(event_id: str) -> int:
    """A stable shard in 0..15: the same event always lands on the same index partition."""
    return zlib.crc32(event_id.encode()) % SHARDS


def sort_key(event: Event) -> str:
    return f"{iso_millis(event.timestamp)}#{event.event_id}"


def day_of(event: Event) -> str:
    return event.timestamp.astimezone(UTC).date().isoformat()


def busy(code: str) -> str:
    return f"not stored: the events table is busy ({code}); resend this row (its event_id keeps it from counting twice)"


@dataclass(eq=False)
class PendingEvent:
    """One event's writes: ``writes[0]`` is its idempotency marker, then its user and/or session copies."""

    position: int
    event: Event
    writes: list[dict[str, Any]]
    size: int


@dataclass
class WriteOutcome:
    """Where each event of a call ended up, by position: written, duplicate, or rejected (with the reason)."""

    written: list[PendingEvent] = field(default_factory=list)
    duplicates: set[int] = field(default_factory=set)
    rejected: dict[int, str] = field(default_factory=dict)


def pending_event(table_name: str, tenant: str, position: int, event: Event, ttl: timedelta) -> PendingEvent:
    """The writes of one event. Only one copy (the user's, else the session's) carries ``shard_pk``."""
    expires_at = int((event.timestamp + ttl).timestamp())
    body: dict[str, Any] = {"event_id": event.event_id, "item_id": event.item_id, "type": event.type}
    optional = {"user_id": event.user_id, "session_id": event.session_id, "rec_id": event.rec_id}
    body.update({name: value for name, value in optional.items() if value is not None})
    if event.value is not None:
        body["value"] = to_dynamo(event.value)
    if event.properties:
        body["properties"] = to_dynamo_properties(event.properties)
    body["expires_at"] = expires_at
    sk = sort_key(event)
    day = {"shard_pk": tenant_key(tenant, str(shard_of(event.event_id)))}
    copies = []
    if event.user_id is not None:
        copies.append({"pk": tenant_key(tenant, USER, event.user_id), "sk": sk, **body, **day})
        day = {}
    if event.session_id is not None:
        copies.append({"pk": tenant_key(tenant, SESSION, event.session_id), "sk": sk, **body, **day})
    marker = {
        "Put": {
            "TableName": table_name,
            "Item": {"pk": tenant_key(tenant, MARKER, event.event_id), "sk": "-", "expires_at": expires_at},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    writes = [marker, *({"Put": {"TableName": table_name, "Item": copy}} for copy in copies)]
    return PendingEvent(position, event, writes, size=sum(len(repr(write)) for write in writes))


def transactions(pending: list[PendingEvent]) -> Iterator[list[PendingEvent]]:
    """Whole events per transaction, at most 100 writes and 3 MB each."""
    chunk: list[PendingEvent] = []
    items = size = 0
    for event in pending:
        full = items + len(event.writes) > MAX_TRANSACTION_ITEMS or size + event.size > MAX_TRANSACTION_BYTES
        if chunk and full:
            yield chunk
            chunk, items, size = [], 0, 0
        chunk.append(event)
        items += len(event.writes)
        size += event.size
    if chunk:
        yield chunk


class TransactionWriter:
    """Writes groups of events, settling duplicates at once and retrying what was only throttled."""

    def __init__(
        self, client: Any, *, sleep: Callable[[float], None] = time.sleep, max_attempts: int = MAX_ATTEMPTS
    ) -> None:
        self._client = client
        self._sleep = sleep
        self._max_attempts = max_attempts

    def write(self, chunk: list[PendingEvent], outcome: WriteOutcome) -> None:
        remaining, attempt = chunk, 0
        while remaining:
            try:
                self._client.transact_write_items(TransactItems=[w for e in remaining for w in e.writes])
            except ClientError as error:
                code = error_code(error)
                reasons = cast(list[dict[str, Any]], error.response.get("CancellationReasons") or [])
                if code == "TransactionCanceledException" and reasons:
                    settled = self._settle(remaining, reasons, outcome)
                    if settled:
                        remaining = [e for e in remaining if e.position not in settled]
                        continue
                    code = next((str(r["Code"]) for r in reasons if r.get("Code") not in (None, "None")), code)
                elif code in ("TransactionCanceledException", "ValidationException") and len(remaining) > 1:
                    for event in remaining:  # no reasons to go by: one transaction per event tells them apart
                        self.write([event], outcome)
                    return
                elif code == "ValidationException":
                    message = error.response["Error"].get("Message", code)
                    outcome.rejected[remaining[0].position] = f"not stored: {message}"
                    return
                elif code not in RETRYABLE_ERRORS and code != "TransactionCanceledException":
                    raise
                attempt += 1
                if attempt >= self._max_attempts:
                    outcome.rejected.update((event.position, busy(code)) for event in remaining)
                    return
                self._sleep(backoff_seconds(attempt))
            else:
                outcome.written.extend(remaining)
                return

    @staticmethod
    def _settle(remaining: list[PendingEvent], reasons: list[dict[str, Any]], outcome: WriteOutcome) -> set[int]:
        """Positions a cancelled transaction settled: duplicates (marker exists) and events DynamoDB refuses."""
        settled, offset = set(), 0
        for event in remaining:
            mine = reasons[offset : offset + len(event.writes)]
            offset += len(event.writes)
            codes = [reason.get("Code") for reason in mine]
            if codes and codes[0] == "ConditionalCheckFailed":
                outcome.duplicates.add(event.position)
                settled.add(event.position)
            elif "ValidationError" in codes:
                message = next(r.get("Message", "") for r in mine if r.get("Code") == "ValidationError")
                outcome.rejected[event.position] = f"not stored: {message or 'the database refused this event'}"
                settled.add(event.position)
        return settled
