"""Requests and responses of the scenario-driven endpoints: /recommendation/… and /scenarios/preview/.

Ids are "flexible" as in the reference: a JSON string or integer, handled as the string it spells.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, StrictBool, StrictInt, StrictStr

from reco.schemas.scenarios import (
    MAX_AMT,
    MAX_FILTERS,
    MAX_RERANKING,
    ItemFilter,
    RecoType,
    RerankingRule,
    Scenario,
    ScenarioName,
)

MAX_INTERACTIONS = 1000
MAX_PREVIEW_SCENARIOS = 64


def _flexible_id(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


# A catalog id (up to 256 characters), or an integer read as one. The length is checked on the
# string (before the conversion it would be checked as a sequence: "at most 64 items").
FlexibleId = Annotated[StrictStr, Field(min_length=1, max_length=256), BeforeValidator(_flexible_id)]


class Interaction(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    item_id: FlexibleId
    interaction_type: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    timestamp: float | None = Field(None, ge=-150_000_000_000.0, le=3_500_000_000.0, description="Default: now.")


class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    item_id: FlexibleId
    rating: float = Field(ge=1, le=10, description="Rating value, 1-10.")


class ContextItem(BaseModel):
    """An item of the request's context (e.g. in the cart); other fields are accepted and unused."""

    model_config = ConfigDict(extra="ignore")

    item_id: FlexibleId


class ItemsQuery(BaseModel):
    """What every scenario-driven recommendation takes."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    scenario: ScenarioName | None = Field(None, description="Scenario to apply (default scenario otherwise).")
    amt: StrictInt | None = Field(None, ge=0, le=MAX_AMT, description="Maximum amount of items returned.")
    filters: list[ItemFilter] | None = Field(None, max_length=MAX_FILTERS, description="Added to the scenario's.")
    reranking: list[RerankingRule] | None = Field(None, max_length=MAX_RERANKING, description="Diversity rules.")
    cursor: Annotated[StrictStr, Field(max_length=2048)] | None = Field(None, description="next_cursor of a page.")
    skip_default_scenario: StrictBool = Field(False, description="Do not merge the default scenario.")
    exclude_rated_items: StrictBool | None = Field(None, description="Exclude items the requester interacted with.")


class SessionItemsRequest(ItemsQuery):
    """POST /recommendation/sessions/items/: a session's events and/or interactions sent in the body."""

    session_id: FlexibleId | None = Field(None, description="Anonymous session whose stored events personalise.")
    interactions: list[Interaction] | None = Field(None, max_length=MAX_INTERACTIONS)
    ratings: list[Rating] | None = Field(None, max_length=MAX_INTERACTIONS, description="Exclusive with the others.")
    user_properties: dict[str, JsonValue] | None = Field(
        None, description="Read by user_property filter values; cold start of an unknown user (see docs/scenarios.md)."
    )


class GenericItemsRequest(SessionItemsRequest):
    """POST /recommendation/generic/items/: a generic scenario decides the reco type."""

    user_id: FlexibleId | None = None
    item_id: FlexibleId | None = None
    context_items: list[ContextItem] | None = Field(
        None,
        max_length=MAX_INTERACTIONS,
        description="*_w_ctx_items: items (e.g. a cart) whose similarity is blended into the scores; never returned.",
    )
    item_properties: dict[str, JsonValue] | None = Field(
        None, description="item_properties_to_items: property values to match, e.g. {'genre': 'jazz'}."
    )
    table: StrictStr | None = Field(None, max_length=128, description="Accepted for compatibility; no effect.")
    metadata: dict[str, JsonValue] | None = None


class PreviewScenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reco_type: RecoType
    name: ScenarioName
    scenario: Scenario


class PreviewRequest(GenericItemsRequest):
    """POST /scenarios/preview/: a generic request where these scenarios replace stored ones."""

    scenario: ScenarioName = Field(description="Generic scenario to apply (stored or in preview_scenarios_params).")
    preview_scenarios_params: list[PreviewScenario] = Field(default_factory=list, max_length=MAX_PREVIEW_SCENARIOS)


class ItemsResponse(BaseModel):
    items_id: list[str] = Field(description="Recommended item ids, best first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    evaluated_scenarios: dict[str, JsonValue] = Field(description="How the scenarios were resolved.")
    warnings: list[str] = Field(default_factory=list)
