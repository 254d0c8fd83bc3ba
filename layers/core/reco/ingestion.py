"""Ingestion: each row of a batch is validated on its own, the good rows are stored, every bad one is reported.

Answers count every row exactly once: ``accepted + len(rejected)`` is the number of rows sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from reco.errors import ItemNotFound, UserNotFound
from reco.ids import ksuid
from reco.records import Event, IngestResult, Item, Page, Rejection, User, iso_millis
from reco.schemas.catalog import ItemRow, UserRow
from reco.schemas.events import EventRow
from reco.settings import get_settings

MAX_ROW_ERRORS = 5  # per row: enough to fix it, short enough for 1,000 bad rows
MAX_ROW_BYTES = 300_000  # a stored row is at most 400 KB; its JSON text is a safe upper bound
MAX_LOCATION_PART = 64
FUTURE_TOLERANCE = timedelta(days=1)  # clocks drift; events from further ahead are client bugs

R = TypeVar("R", bound=BaseModel)
T = TypeVar("T")
Keyed = TypeVar("Keyed", Item, User)


class CatalogRepository(Protocol):
    """Items and users of a tenant (CatalogStore in production)."""

    def put_items(self, tenant: str, items: Sequence[Item]) -> IngestResult: ...

    def put_users(self, tenant: str, users: Sequence[User]) -> IngestResult: ...

    def get_item(self, tenant: str, item_id: str) -> Item | None: ...

    def get_user(self, tenant: str, user_id: str) -> User | None: ...

    def delete_item(self, tenant: str, item_id: str) -> bool: ...

    def list_items(self, tenant: str, cursor: str | None = None, limit: int = 20) -> Page[Item]: ...


class EventRepository(Protocol):
    """Interaction events of a tenant (EventStore in production)."""

    def put_events(self, tenant: str, events: Sequence[Event]) -> IngestResult: ...

    def load_events(self, tenant: str, events: Sequence[Event]) -> IngestResult: ...

    def recent_page(
        self,
        tenant: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Event]: ...


class RowError(ValueError):
    """A row that passed its schema but breaks a rule that needs context (the clock, the batch)."""


_ADAPTERS: dict[type[BaseModel], TypeAdapter[Any]] = {
    model: TypeAdapter(model) for model in (ItemRow, UserRow, EventRow)
}


def describe_errors(error: ValidationError, model: type[BaseModel]) -> str:
    """``"<field path>: <message>; …"`` for a row, naming what to fix."""
    parts = []
    for detail in error.errors()[:MAX_ROW_ERRORS]:
        location = ".".join(str(part)[:MAX_LOCATION_PART] for part in detail["loc"]) or "row"
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            message = f"unknown field; a row has {', '.join(model.model_fields)}"
        elif detail["type"] in ("model_type", "model_attributes_type", "dict_type"):
            message = "each row must be a JSON object"
        parts.append(f"{location}: {message}")
    omitted = error.error_count() - MAX_ROW_ERRORS
    if omitted > 0:
        parts.append(f"and {omitted} more")
    return "; ".join(parts)


def validate_rows(
    rows: Sequence[Any], model: type[R], convert: Callable[[R], T]
) -> tuple[list[tuple[int, T]], list[Rejection]]:
    """``([(row index, record)], rejections)``: each row is validated, sized and converted on its own."""
    adapter = _ADAPTERS.get(model) or TypeAdapter(model)
    valid: list[tuple[int, T]] = []
    rejected: list[Rejection] = []
    for index, raw in enumerate(rows):
        try:
            row = adapter.validate_python(raw)
            size = len(json.dumps(raw, ensure_ascii=False).encode("utf-8", "surrogatepass"))
            if size > MAX_ROW_BYTES:
                raise RowError(f"row: {size:,} bytes of JSON; a row is at most {MAX_ROW_BYTES:,} bytes")
            valid.append((index, convert(row)))
        except ValidationError as error:
            rejected.append(Rejection(index, describe_errors(error, model)))
        except RowError as error:
            rejected.append(Rejection(index, str(error)))
    return valid, rejected


def keep_last_of_each_id(rows: list[tuple[int, Keyed]]) -> tuple[list[tuple[int, Keyed]], list[Rejection]]:
    """An id sent twice in one batch: its last valid row wins, earlier ones are reported as superseded."""
    last = {record.id: index for index, record in rows}
    kept = [(index, record) for index, record in rows if last[record.id] == index]
    superseded = [
        Rejection(index, f"superseded by row {last[record.id]}: the same id appears later in this batch")
        for index, record in rows
        if last[record.id] != index
    ]
    return kept, superseded


def combine(rows: list[tuple[int, Any]], invalid: list[Rejection], stored: IngestResult) -> IngestResult:
    """The batch's answer: the store's rejections (by position in ``rows``) mapped back to row indexes."""
    failed = [Rejection(rows[r.index][0], r.error) for r in stored.rejected]
    rejected = sorted([*invalid, *failed], key=lambda r: r.index)
    return IngestResult(accepted=stored.accepted, rejected=rejected, duplicates=stored.duplicates)


def ingest_items(tenant: str, rows: Sequence[Any], catalog: CatalogRepository) -> IngestResult:
    """Upsert items: each valid row replaces its item's properties."""
    valid, invalid = validate_rows(rows, ItemRow, lambda row: Item(row.id, dict(row.properties)))
    kept, superseded = keep_last_of_each_id(valid)
    stored = catalog.put_items(tenant, [item for _, item in kept])
    return combine(kept, [*invalid, *superseded], stored)


def ingest_users(tenant: str, rows: Sequence[Any], catalog: CatalogRepository) -> IngestResult:
    """Upsert users: each valid row replaces its user's properties."""
    valid, invalid = validate_rows(rows, UserRow, lambda row: User(row.id, dict(row.properties)))
    kept, superseded = keep_last_of_each_id(valid)
    stored = catalog.put_users(tenant, [user for _, user in kept])
    return combine(kept, [*invalid, *superseded], stored)


def new_event_id() -> str:
    return f"evt_{ksuid()}"


class EventClock:
    """Turns an event row into an Event: defaults its timestamp to now and keeps it within retention."""

    def __init__(self, now: datetime, retention_days: int) -> None:
        now = now.astimezone(UTC)
        self.now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self.retention_days = retention_days
        self.oldest = self.now - timedelta(days=retention_days)
        self.newest = self.now + FUTURE_TOLERANCE

    def event_of(self, row: EventRow) -> Event:
        timestamp = row.timestamp or self.now
        if timestamp > self.newest:
            raise RowError(
                f"timestamp: {iso_millis(timestamp)} is more than 1 day in the future (now: {iso_millis(self.now)})"
            )
        if timestamp < self.oldest:
            raise RowError(
                f"timestamp: {iso_millis(timestamp)} is older than the {self.retention_days}-day event retention "
                f"(oldest accepted: {iso_millis(self.oldest)})"
            )
        return Event(
            event_id=row.event_id or new_event_id(),
            item_id=row.item_id,
            type=row.type,
            timestamp=timestamp,
            user_id=row.user_id,
            session_id=row.session_id,
            value=row.value,
            properties=dict(row.properties),
            rec_id=row.rec_id,
        )


def ingest_events(
    tenant: str,
    rows: Sequence[Any],
    events: EventRepository,
    *,
    now: datetime | None = None,
    retention_days: int | None = None,
    bulk: bool = False,
) -> IngestResult:
    """Store interactions, idempotently on ``event_id``: a resent row is accepted and counted as a duplicate.

    ``bulk`` (imports whose rows all carry timestamps) writes without transactions, see EventStore.load_events.
    """
    days = get_settings().event_ttl_days if retention_days is None else retention_days
    clock = EventClock(now or datetime.now(UTC), days)
    valid, invalid = validate_rows(rows, EventRow, clock.event_of)
    write = events.load_events if bulk else events.put_events
    stored = write(tenant, [event for _, event in valid])
    return combine(valid, invalid, stored)


def find_item(tenant: str, item_id: str, catalog: CatalogRepository) -> Item:
    item = catalog.get_item(tenant, item_id)
    if item is None:
        raise ItemNotFound(f"item not found: '{item_id}'", data={"item_id": item_id})
    return item


def find_user(tenant: str, user_id: str, catalog: CatalogRepository) -> User:
    user = catalog.get_user(tenant, user_id)
    if user is None:
        raise UserNotFound(f"user not found: '{user_id}'", data={"user_id": user_id})
    return user


def remove_item(tenant: str, item_id: str, catalog: CatalogRepository) -> None:
    if not catalog.delete_item(tenant, item_id):
        raise ItemNotFound(f"item not found: '{item_id}'", data={"item_id": item_id})


def list_items(tenant: str, catalog: CatalogRepository, *, cursor: str | None, limit: int) -> Page[Item]:
    return catalog.list_items(tenant, cursor=cursor, limit=limit)


def list_events(
    tenant: str,
    events: EventRepository,
    *,
    user_id: str | None = None,
    session_id: str | None = None,
    cursor: str | None,
    limit: int,
) -> Page[Event]:
    """A user's or a session's events, newest first."""
    return events.recent_page(tenant, user_id=user_id, session_id=session_id, limit=limit, cursor=cursor)
