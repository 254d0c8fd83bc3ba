"""A user's and session's most recent events, read at request time (read-your-writes)."""

from __future__ import annotations

from typing import Protocol

from reco.records import Event, Page

HISTORY_LIMIT = 50  # newest events folded into a request; older ones are in the trained model


class EventReader(Protocol):
    def recent_page(
        self, tenant: str, *, user_id: str | None = None, session_id: str | None = None, limit: int = HISTORY_LIMIT
    ) -> Page[Event]: ...


class RecentEvents:
    """The newest events of a request's user and session, merged, newest first, each once."""

    def __init__(self, reader: EventReader, limit: int = HISTORY_LIMIT) -> None:
        self._reader = reader
        self._limit = limit

    def recent_events(self, tenant: str, user_id: str | None, session_id: str | None) -> list[Event]:
        found: dict[str, Event] = {}
        if user_id is not None:
            found.update(
                (e.event_id, e) for e in self._reader.recent_page(tenant, user_id=user_id, limit=self._limit).records
            )
        if session_id is not None:
            found.update(
                (e.event_id, e)
                for e in self._reader.recent_page(tenant, session_id=session_id, limit=self._limit).records
            )
        return sorted(found.values(), key=lambda e: e.timestamp, reverse=True)[: self._limit]
