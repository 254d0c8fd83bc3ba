"""Interaction events in the events table (layout: docs/data-model.md, EventsTable).

- a user's copy ``<tenant>#user#<user_id>`` and/or a session's copy ``<tenant>#session#<session_id>``,
  sort key ``<ISO-8601 UTC, ms>#<event_id>``; only one copy (the user's, else the session's) carries
  ``shard_pk = <tenant>#<shard>`` for the ``by_shard`` index, so training sees each event once;
- an idempotency marker ``<tenant>#event#<event_id>`` / ``-``, put with ``attribute_not_exists(pk)``
  in the same transaction as the copies (reco.stores.event_writes): a resent event is never doubled;
- a day index ``<tenant>#days`` / ``<YYYY-MM-DD>`` with an ``events`` counter: which days to read.
"""

from __future__ import annotations

import heapq
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from reco.observability import logger
from reco.records import Event, IngestResult, Page, Rejection
from reco.settings import get_settings
from reco.stores.aws import cached_store, dynamodb_table, tenant_key
from reco.stores.codec import (
    MAX_ATTEMPTS,
    RETRYABLE_ERRORS,
    batch_get,
    error_code,
    from_dynamo_properties,
    number_from_dynamo,
    query_page,
)
from reco.stores.event_writes import (
    MARKER,
    SESSION,
    SHARDS,
    USER,
    PendingEvent,
    TransactionWriter,
    WriteOutcome,
    busy,
    day_of,
    pending_event,
    shard_of,
    transactions,
)

__all__ = ["SHARDS", "EventStore", "event_of", "event_store", "shard_of"]

DAYS = "days"
SHARD_INDEX = "by_shard"
DAY_WORKERS = 8  # parallel day-index updates
NOT_EXPIRED = "expires_at > :now"


class EventStore:
    """A tenant's interactions: idempotent batch writes, per user / session reads, whole-history reads."""

    def __init__(
        self,
        table: Any,
        *,
        ttl_days: int,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._table = table
        self._ttl = timedelta(days=ttl_days)
        self._clock = clock
        self._sleep = sleep
        self._writer = TransactionWriter(table.meta.client, sleep=sleep, max_attempts=max_attempts)
        self._opened_days: set[tuple[str, str]] = set()

    # ------------------------------------------------------------------ writes
    def put_events(self, tenant: str, events: Sequence[Event]) -> IngestResult:
        """Store events once each; rejections are by position in ``events``.

        ``accepted`` counts stored rows, including ``duplicates``: rows whose event_id was already
        stored (earlier, or by an earlier row of the same call) and that were not written again.
        """
        first_of: dict[str, int] = {}
        repeats: dict[int, int] = {}
        pending = []
        for position, event in enumerate(events):
            if event.event_id in first_of:
                repeats[position] = first_of[event.event_id]
                continue
            first_of[event.event_id] = position
            pending.append(pending_event(self._table.name, tenant, position, event, self._ttl))
        outcome = WriteOutcome()
        for chunk in transactions(self._open_days(tenant, pending, outcome.rejected)):
            self._writer.write(chunk, outcome)
        self._count_days(tenant, outcome.written)
        rejected = outcome.rejected
        for position, first in repeats.items():
            if first in rejected:
                rejected[position] = f"same event_id as row {first}, which was not stored: {rejected[first]}"
            else:
                outcome.duplicates.add(position)
        return IngestResult(
            accepted=len(events) - len(rejected),
            rejected=[Rejection(index, error) for index, error in sorted(rejected.items())],
            duplicates=len(outcome.duplicates),
        )

    def load_events(self, tenant: str, events: Sequence[Event]) -> IngestResult:
        """Bulk import (the CLI, the demo): BatchWriteItem instead of one transaction per 100 writes.

        Rows whose idempotency marker exists are skipped (counted as duplicates), like put_events
        does, but checked with one BatchGetItem per 100 rows before writing rather than in each
        transaction: two imports of the same rows racing each other could both write them.
        """
        stored = self._stored_event_ids(tenant, [event.event_id for event in events])
        fresh: dict[str, PendingEvent] = {}
        for position, event in enumerate(events):
            if event.event_id not in stored and event.event_id not in fresh:
                fresh[event.event_id] = pending_event(self._table.name, tenant, position, event, self._ttl)
        rejected: dict[int, str] = {}
        pending = self._open_days(tenant, list(fresh.values()), rejected)
        # Copies first, markers after: a marker must never exist for an event that was not stored,
        # or a re-import would skip it for good. writes[0] is each event's marker.
        for part in (slice(1, None), slice(0, 1)):
            with self._table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
                for writes in pending:
                    for write in writes.writes[part]:
                        batch.put_item(Item=write["Put"]["Item"])
        self._count_days(tenant, pending)
        return IngestResult(
            accepted=len(events) - len(rejected),
            rejected=[Rejection(index, error) for index, error in sorted(rejected.items())],
            duplicates=len(events) - len(fresh),
        )

    def _stored_event_ids(self, tenant: str, event_ids: list[str]) -> set[str]:
        """Which of ``event_ids`` already have their idempotency marker (one read per 100 events)."""
        keys = [{"pk": tenant_key(tenant, MARKER, event_id), "sk": "-"} for event_id in dict.fromkeys(event_ids)]
        rows = batch_get(
            self._table.meta.client,
            self._table.name,
            keys,
            sleep=self._sleep,
            busy_message="the events table is busy: retry the import in a few seconds",
        )
        return {str(row["pk"]).split("#", 2)[2] for row in rows}  # <tenant>#event#<event_id>

    def _open_days(self, tenant: str, pending: list[PendingEvent], rejected: dict[int, str]) -> list[PendingEvent]:
        """Make sure each day of the batch is in the day index before any of its events is written.

        A day this container already opened is skipped: its row lives until the day's events expire.
        """
        by_day: dict[str, list[PendingEvent]] = defaultdict(list)
        for event in pending:
            by_day[day_of(event.event)].append(event)
        unopened = {day: 0 for day in by_day if (tenant, day) not in self._opened_days}
        failed = self._update_days(tenant, unopened)
        for day, code in failed.items():
            rejected.update((event.position, busy(code)) for event in by_day.pop(day))
        self._opened_days.update((tenant, day) for day in unopened if day not in failed)
        return sorted((event for group in by_day.values() for event in group), key=lambda e: e.position)

    def _count_days(self, tenant: str, written: list[PendingEvent]) -> None:
        counts = dict(Counter(day_of(event.event) for event in written))
        for day, code in self._update_days(tenant, counts).items():
            # The events are stored and their day is indexed: only the counter is short.
            logger.warning("day counter not updated", extra={"day": day, "events": counts[day], "error": code})

    def _update_days(self, tenant: str, counts: dict[str, int]) -> dict[str, str]:
        """ADD each day's count to its row (creating it); ``{day: error code}`` for the days DynamoDB refused."""

        def update(day: str) -> str | None:
            # A day's row outlives its last event: events of that day expire by its end + retention.
            end = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC) + timedelta(days=1)
            try:
                self._table.meta.client.update_item(
                    TableName=self._table.name,
                    Key={"pk": tenant_key(tenant, DAYS), "sk": day},
                    UpdateExpression="ADD events :count SET expires_at = :expires",
                    ExpressionAttributeValues={":count": counts[day], ":expires": int((end + self._ttl).timestamp())},
                )
            except ClientError as error:
                if error_code(error) not in RETRYABLE_ERRORS:
                    raise
                return error_code(error)
            return None

        if len(counts) <= 1:  # the usual batch: today only
            codes = [update(day) for day in counts]
        else:  # a backfill touches many days
            with ThreadPoolExecutor(max_workers=DAY_WORKERS) as pool:
                codes = list(pool.map(update, counts))
        return {day: code for day, code in zip(counts, codes, strict=True) if code is not None}

    # ------------------------------------------------------------------ reads
    def recent_page(
        self,
        tenant: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Event]:
        """A user's or a session's events, newest first (strongly consistent: read-your-writes)."""
        if (user_id is None) == (session_id is None):
            raise ValueError("pass exactly one of user_id or session_id")
        if user_id is not None:
            partition = tenant_key(tenant, USER, user_id)
        else:
            partition = tenant_key(tenant, SESSION, str(session_id))
        rows, next_cursor = query_page(
            self._table.query,
            partition,
            limit,
            cursor,
            ConsistentRead=True,
            ScanIndexForward=False,
            FilterExpression=NOT_EXPIRED,
            ExpressionAttributeValues={":now": self._now_epoch()},
        )
        return Page([event_of(row) for row in rows], next_cursor)

    def event_days(self, tenant: str) -> list[str]:
        """Days (``YYYY-MM-DD``, ascending) on which the tenant may have unexpired events."""
        days: list[str] = []
        cursor: str | None = None
        while True:
            rows, cursor = query_page(
                self._table.query,
                tenant_key(tenant, DAYS),
                1000,
                cursor,
                ConsistentRead=True,
                FilterExpression=NOT_EXPIRED,
                ExpressionAttributeValues={":now": self._now_epoch()},
            )
            days.extend(str(row["sk"]) for row in rows)
            if cursor is None:
                return days

    def has_events(self, tenant: str) -> bool:
        """Whether the tenant ever sent an event that has not expired (the day index is not empty).

        Days sort and expire in order, so the newest unexpired day answers: a one-row query.
        """
        rows, _ = query_page(
            self._table.query,
            tenant_key(tenant, DAYS),
            1,
            None,
            ConsistentRead=True,
            ScanIndexForward=False,
            FilterExpression=NOT_EXPIRED,
            ExpressionAttributeValues={":now": self._now_epoch()},
        )
        return bool(rows)

    def iter_events(self, tenant: str, since: date | None = None) -> Iterator[Event]:
        """Every unexpired event once, in time order (for training).

        The 16 shards of the ``by_shard`` index are read in parallel: 16 queries whatever the
        history's length, each bounded by ``since`` on the time-ordered sort key. Each page becomes
        compact records at once, so memory holds events, not boto3's row dictionaries.
        """
        if not self.has_events(tenant):
            return
        now = self._now_epoch()
        with ThreadPoolExecutor(max_workers=SHARDS) as pool:
            shards = list(pool.map(partial(self._shard_events, tenant, since=since, now=now), range(SHARDS)))
        yield from heapq.merge(*shards, key=lambda event: (event.timestamp, event.event_id))

    def _shard_events(self, tenant: str, shard: int, *, since: date | None, now: int) -> list[Event]:
        events: list[Event] = []
        values: dict[str, Any] = {":shard": tenant_key(tenant, str(shard)), ":now": now}
        condition = "shard_pk = :shard"
        if since is not None:
            condition += " AND sk >= :since"
            values[":since"] = since.isoformat()
        request: dict[str, Any] = {
            "TableName": self._table.name,
            "IndexName": SHARD_INDEX,
            "KeyConditionExpression": condition,
            "FilterExpression": NOT_EXPIRED,
            "ExpressionAttributeValues": values,
        }
        while True:
            response = self._table.meta.client.query(**request)
            events.extend(event_of(row) for row in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return events
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _now_epoch(self) -> int:
        return int(self._clock().timestamp())


def event_of(row: dict[str, Any]) -> Event:
    """An event from either of its stored copies."""
    timestamp, _, event_id = str(row["sk"]).partition("#")
    value = row.get("value")
    return Event(
        event_id=str(row.get("event_id", event_id)),
        item_id=str(row["item_id"]),
        type=str(row["type"]),
        timestamp=datetime.fromisoformat(timestamp),
        user_id=row.get("user_id"),
        session_id=row.get("session_id"),
        value=number_from_dynamo(value) if isinstance(value, Decimal) else None,
        properties=from_dynamo_properties(row.get("properties")),
        rec_id=row.get("rec_id"),
    )


@cached_store
def event_store() -> EventStore:
    settings = get_settings()
    return EventStore(dynamodb_table(settings.events_table), ttl_days=settings.event_ttl_days)
