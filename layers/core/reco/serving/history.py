"""A user's and session's most recent events, read at request time (read-your-writes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from reco.records import Event

HISTORY_LIMIT = 50  # newest events folded into a request; older ones are in the trained model


class EventReader(Protocol):
    def recent(
        self, tenant: str, *, user_id: str | None = None, session_id: str | None = None, limit: int = HISTORY_LIMIT
    ) -> Sequence[Event]: ...


class RecentEvents:
    """The newest events of a request's user and session, merged, newest first, each once."""

    def __init__(self, reader: EventReader, limit: int = HISTORY_LIMIT) -> None:
        self._reader = reader
        self._limit = limit

    def recent_events(self, tenant: str, user_id: str | None, session_id: str | None) -> list[Event]:
        found: dict[str, Event] = {}
        if user_id is not None:
            found.update((e.event_id, e) for e in self._reader.recent(tenant, user_id=user_id, limit=self._limit))
        if session_id is not None:
            found.update((e.event_id, e) for e in self._reader.recent(tenant, session_id=session_id, limit=self._limit))
        return sorted(found.values(), key=lambda e: e.timestamp, reverse=True)[: self._limit]
