"""What a recommendation request knows about its requester, read lazily and at most once.

Conditions (``user_function``, ``item_property``, ``runtime_param``), ``user_property`` filter
values and exclusions all ask the same object, so a request reads the user's events, the user and
the request item only if something needs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from reco.records import Event, Item, Page, User
from reco.schemas.recommendation import Interaction, Rating

# Newest events read per user / session: enough for counts in conditions (``n_ratings gte 21``)
# and for exclusions; older behaviour is in the trained model.
EVENTS_READ = 1000
SCORED_EVENTS = 50  # newest events folded into the scores, as POST /v1/recommend does
# Event types n_ratings counts: explicit ratings (POST /v1/events type "rating", a body's `ratings`).
RATING_EVENT_TYPES = ("rating",)


class EventReader(Protocol):
    def recent_page(
        self, tenant: str, *, user_id: str | None = None, session_id: str | None = None, limit: int = 50
    ) -> Page[Event]: ...


class CatalogReader(Protocol):
    def get_item(self, tenant: str, item_id: str) -> Item | None: ...

    def get_user(self, tenant: str, user_id: str) -> User | None: ...


class ItemDetailsReader(Protocol):
    """Items by id, in one round trip (names and properties of the items a response shows)."""

    def get_items(self, tenant: str, item_ids: Sequence[str]) -> dict[str, Item]: ...


@dataclass(frozen=True)
class Requester:
    """Who a request is for, and what it sent along."""

    user_id: str | None = None
    session_id: str | None = None
    item_id: str | None = None
    interactions: Sequence[Interaction] = ()
    ratings: Sequence[Rating] = ()
    user_properties: Mapping[str, Any] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)  # runtime_param conditions read these
    item_properties: Mapping[str, Any] | None = None  # item_properties_to_items: the values to match
    context_items: Sequence[str] = ()  # *_w_ctx_items: items blended into the scores (a cart)


class RequestFacts:
    """Implements the engine's ``ConditionInputs``; ``as_of`` freezes the history across pages."""

    def __init__(
        self, tenant: str, requester: Requester, events: EventReader, catalog: CatalogReader, as_of: datetime
    ) -> None:
        self.tenant = tenant
        self.requester = requester
        self.as_of = as_of
        self._events_reader = events
        self._catalog = catalog
        self._events: list[Event] | None = None
        self._user: dict[str, Any] | None = None
        self._item: dict[str, Any] | None = None

    # --- the requester's history --------------------------------------------------------------

    def events(self) -> list[Event]:
        """Stored events of the user and session (newest first, each once), then the body's."""
        if self._events is None:
            who = self.requester
            found: dict[str, Event] = {}
            for key, value in (("user_id", who.user_id), ("session_id", who.session_id)):
                if value is not None:
                    page = self._events_reader.recent_page(self.tenant, limit=EVENTS_READ, **{key: value})
                    found.update((e.event_id, e) for e in page.records if e.timestamp <= self.as_of)
            stored = sorted(found.values(), key=lambda e: e.timestamp, reverse=True)
            self._events = [*self._sent_events(), *stored]
        return self._events

    def _sent_events(self) -> list[Event]:
        """The body's interactions / ratings as events (timestamp default: the request's)."""
        sent: list[Event] = []
        for index, interaction in enumerate(self.requester.interactions):
            at = self.as_of if interaction.timestamp is None else _epoch(interaction.timestamp)
            sent.append(Event(f"body-{index}", interaction.item_id, interaction.interaction_type, at))
        for index, rating in enumerate(self.requester.ratings):
            sent.append(Event(f"body-r{index}", rating.item_id, "rating", self.as_of, value=rating.rating))
        return sorted(sent, key=lambda e: e.timestamp, reverse=True)

    def scored_events(self) -> list[Event]:
        return self.events()[:SCORED_EVENTS]

    def interacted_items(self, types: Sequence[str] | None = None) -> list[str]:
        """Items of the history (of these interaction types only, when given)."""
        wanted = None if types is None else set(types)
        return list(dict.fromkeys(e.item_id for e in self.events() if wanted is None or e.type in wanted))

    # --- ConditionInputs -----------------------------------------------------------------------

    def user_function(self, name: str) -> float:
        """``n_interactions``: events in the history; ``n_ratings``: distinct items rated (views do not count)."""
        if name == "n_interactions":
            return float(len(self.events()))
        return float(len(self.interacted_items(RATING_EVENT_TYPES)))

    def item_property(self, name: str) -> Any:
        if self.requester.item_id is None:
            return None
        if self._item is None:
            item = self._catalog.get_item(self.tenant, self.requester.item_id)
            self._item = dict(item.properties) if item is not None else {}
        return self._item.get(name)

    def runtime_param(self, name: str) -> Any:
        """A request parameter by name; ``user_properties.<name>`` reads into the user's properties."""
        if name.startswith("user_properties."):
            return self.user_property(name.removeprefix("user_properties."))
        return self.requester.params.get(name)

    def assignment_key(self) -> str | None:
        return self.requester.user_id or self.requester.session_id

    # --- user properties (filter values) -------------------------------------------------------

    def user_property(self, name: str) -> Any:
        """The body's ``user_properties`` first, else the stored user's."""
        sent = self.requester.user_properties or {}
        if name in sent:
            return sent[name]
        return self._stored_user().get(name)

    def user_properties(self) -> dict[str, Any]:
        """Every property of the requester: the stored user's, with the body's on top (cold start)."""
        return {**self._stored_user(), **(self.requester.user_properties or {})}

    def _stored_user(self) -> dict[str, Any]:
        if self.requester.user_id is None:
            return {}
        if self._user is None:
            user = self._catalog.get_user(self.tenant, self.requester.user_id)
            self._user = dict(user.properties) if user is not None else {}
        return self._user


def _epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(max(seconds, 0.0), UTC)  # before 1970 only orders first
