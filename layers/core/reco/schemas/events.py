"""POST /v1/events and the per user / per session event lists.

The batch's top level is validated as a whole; each event row is validated on its own by the
ingestion service, so a bad row is reported by index and the good rows are stored.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictStr,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from reco.records import Event, IngestResult, Page, iso_millis
from reco.schemas.catalog import MAX_BATCH, CheckedNumber, CheckedPropertyValue, PropertyName, RejectedRow
from reco.schemas.ranking import Identifier

MAX_EVENT_PROPERTIES = 32
TIMESTAMP_FORMATS = "ISO-8601 with a timezone (2026-05-01T12:00:00Z) or epoch seconds (1777636800)"

EventId = Annotated[StrictStr, Field(min_length=1, max_length=128)]
EventType = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=64)]


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO-8601 string with a timezone, or epoch seconds, as a UTC datetime to the millisecond."""
    if value is None:
        return None
    if isinstance(value, str):
        shown = repr(value[:40])
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{shown} is not {TIMESTAMP_FORMATS}") from None
        if moment.tzinfo is None:
            raise ValueError(f"{shown} has no timezone: add Z or an offset such as +02:00")
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            raise ValueError(f"{shown} is out of range") from None
    elif isinstance(value, int | float) and not isinstance(value, bool) and not _non_finite(value):
        shown = str(value) if len(str(value)) <= 40 else f"a {len(str(value))}-digit number"
        try:  # fromtimestamp overflows on integers past a float's range
            moment = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"{shown} is out of range: epoch timestamps are in seconds, not milliseconds") from None
    else:
        raise ValueError(f"must be {TIMESTAMP_FORMATS}")
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _non_finite(value: float) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


# Epoch seconds from year 1 to year 9999, the range a datetime holds.
EPOCH_SECONDS_RANGE = {"minimum": -62135596800, "maximum": 253402300799}
TIMESTAMP_SCHEMA = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "number", **EPOCH_SECONDS_RANGE}]}
Timestamp = Annotated[datetime | None, PlainValidator(parse_timestamp), WithJsonSchema(TIMESTAMP_SCHEMA)]


class EventRow(BaseModel):
    """One interaction of a POST /v1/events batch."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "event_id": "evt-000123",
                    "user_id": "2f396d29fb98",
                    "session_id": "s-81f2",
                    "item_id": "EC5792",
                    "type": "purchase",
                    "timestamp": "2026-05-01T12:00:00Z",
                    "value": 49.99,
                    "rec_id": "rec_3Mar8Ll7uilqO1rsIICJU67fDgR",
                }
            ]
        },
    )

    event_id: EventId | None = Field(
        None,
        description="Your id for the event: a resent event with the same id is stored once. Assigned when absent.",
    )
    user_id: Identifier | None = Field(None, description="The user. Optional if session_id is given.")
    session_id: Identifier | None = Field(None, description="The session. Optional if user_id is given.")
    item_id: Identifier = Field(description="The item interacted with.")
    type: EventType = Field(description="Free-form: view, click, add_to_cart, purchase, rating …")
    timestamp: Timestamp = Field(
        None, description=f"When it happened: {TIMESTAMP_FORMATS}. Default: now. At most 1 day ahead."
    )
    value: CheckedNumber | None = Field(None, description="A finite number, e.g. a rating or a quantity.")
    properties: dict[PropertyName, CheckedPropertyValue] = Field(
        default_factory=dict,
        max_length=MAX_EVENT_PROPERTIES,
        description="Strings, numbers, booleans or arrays of strings (at most 32).",
    )
    rec_id: EventId | None = Field(None, description="The rec_id of the recommendation list that led to the event.")

    @model_validator(mode="after")
    def _check_who(self) -> EventRow:
        if self.user_id is None and self.session_id is None:
            raise ValueError("provide user_id, session_id, or both")
        return self


RawEventRow = Annotated[Any, WithJsonSchema(EventRow.model_json_schema())]


class PostEventsRequest(BaseModel):
    """Store up to 1,000 interactions; idempotent on event_id."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {"event_id": "evt-1", "user_id": "2f396d29fb98", "item_id": "EC5792", "type": "view"},
                        {"event_id": "evt-2", "session_id": "s-81f2", "item_id": "FC7890", "type": "add_to_cart"},
                    ]
                }
            ]
        },
    )

    events: list[RawEventRow] = Field(min_length=1, max_length=MAX_BATCH, description="1 to 1,000 events.")


class EventIngestResponse(BaseModel):
    accepted: int = Field(description="Rows stored, including duplicates.")
    duplicates: int = Field(description="Accepted rows whose event_id was already stored: not counted twice.")
    rejected: list[RejectedRow] = Field(description="Rows not stored, each with its reason.")

    @classmethod
    def of(cls, result: IngestResult) -> EventIngestResponse:
        rejected = [RejectedRow(index=r.index, error=r.error) for r in result.rejected]
        return cls(accepted=result.accepted, duplicates=result.duplicates, rejected=rejected)


class EventResponse(BaseModel):
    event_id: str
    user_id: str | None
    session_id: str | None
    item_id: str
    type: str
    timestamp: str = Field(description="UTC, to the millisecond.", examples=["2026-05-01T12:00:00.000Z"])
    value: float | int | None
    properties: dict[str, Any]
    rec_id: str | None

    @classmethod
    def of(cls, event: Event) -> EventResponse:
        return cls(
            event_id=event.event_id,
            user_id=event.user_id,
            session_id=event.session_id,
            item_id=event.item_id,
            type=event.type,
            timestamp=iso_millis(event.timestamp),
            value=event.value,
            properties=dict(event.properties),
            rec_id=event.rec_id,
        )


class EventPage(BaseModel):
    events: list[EventResponse] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for older events; null on the last page.")

    @classmethod
    def of(cls, page: Page[Event]) -> EventPage:
        return cls(events=[EventResponse.of(e) for e in page.records], next_cursor=page.next_cursor)
