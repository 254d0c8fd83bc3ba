"""What GET /v1/recommendations is asked (aliases resolved) and the stores it reads, as plain types."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from reco.lists.contexts import ContextRepository
from reco.recommendations.facts import ItemDetailsReader
from reco.recommendations.service import RecommendationServices


@dataclass(frozen=True)
class ListServices:
    recommendations: RecommendationServices
    contexts: ContextRepository
    items: ItemDetailsReader
    category_property: str = "category"


@dataclass(frozen=True)
class ClientInfo:
    """Telemetry headers stored with the decision."""

    sdk: str | None = None
    sdk_version: str | None = None
    platform: str | None = None


@dataclass(frozen=True)
class ListQuery:
    """GET /v1/recommendations, aliases resolved (quantity → limit, filters → filter, camelCase ids)."""

    user_id: str | None = None
    item_id: str | None = None
    entity_type: str | None = None
    context_id: str | None = None
    limit: int | None = None
    starting_after: str | None = None
    cursor: str | None = None
    name: str | None = None
    description: str | None = None
    filters: Sequence[str] = ()
    scope: str | None = None
    mode: str = "single"
    window_days: int = 14
    candidate_limit: int = 50
    served_cap: int = 50
    session_id: str | None = None
    anonymous_id: str | None = None
    client: ClientInfo = field(default_factory=ClientInfo)
    reveal_history: bool = True  # False: explanations and segments keep the user's history to themselves
