"""The ingested data as domain records: catalog items, users, interaction events (no AWS here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

# A property value: a string, a finite number, a boolean, or an array of strings.
PropertyValue = bool | int | float | str | list[str]
Properties = dict[str, PropertyValue]

T = TypeVar("T")


def iso_millis(moment: datetime) -> str:
    """``2026-05-01T12:00:00.123Z``: UTC, millisecond precision, fixed width (sorts as text)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Item:
    """A catalog item and its properties (category, price, brand …); ``updated_at`` is set by the store."""

    id: str
    properties: Properties = field(default_factory=dict)
    updated_at: datetime | None = None


# Properties that hold an item's display name, in order of preference.
NAME_PROPERTIES = ("name", "title")


def item_name(item: Item | None) -> str | None:
    """The item's display name (its ``name``, else its ``title`` property), if it has one."""
    if item is None:
        return None
    for key in NAME_PROPERTIES:
        value = item.properties.get(key)
        if isinstance(value, str):
            return value
    return None


@dataclass(frozen=True)
class User:
    """A user's properties (segment, country …); ``updated_at`` is set by the store."""

    id: str
    properties: Properties = field(default_factory=dict)
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)  # slots: training holds every event of a tenant at once
class Event:
    """One interaction of a user and/or session with an item. ``timestamp`` is UTC, to the millisecond."""

    event_id: str
    item_id: str
    type: str
    timestamp: datetime
    user_id: str | None = None
    session_id: str | None = None
    value: float | None = None
    properties: Properties = field(default_factory=dict)
    rec_id: str | None = None


@dataclass(frozen=True)
class Rejection:
    """A row that was not stored: its position in the request and what to fix."""

    index: int
    error: str


@dataclass(frozen=True)
class IngestResult:
    """What a batch write did. ``accepted`` rows are stored (``duplicates`` of them were already)."""

    accepted: int
    rejected: list[Rejection] = field(default_factory=list)
    duplicates: int = 0


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; ``next_cursor`` fetches the next one, ``None`` on the last page."""

    records: list[T]
    next_cursor: str | None = None
