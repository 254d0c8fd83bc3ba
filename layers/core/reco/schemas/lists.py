"""Requests and responses of GET /v1/recommendations and /v1/contexts (recommendations-api-v1).

Field names, defaults and limits are the reference's; what the reference leaves open (contexts'
shape, explanations' members, auto-mode sections) is documented on each field.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictBool, StrictInt, StrictStr, field_validator

from reco.errors import WrongParameter
from reco.schemas.bounds import FreeForm
from reco.schemas.parameters import CONTEXT_ID_FORM
from reco.schemas.scenarios import ScenarioName

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
MAX_CONTEXT_FILTERS = 20
CONTEXT_ID_PATTERN = re.compile(CONTEXT_ID_FORM)  # what the OpenAPI document states
PROPERTY_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"

EntityType = Literal["User", "Item"]
Mode = Literal["single", "auto"]


def context_number(text: str, parameter: str = "context_id") -> str:
    """``101`` for ``101`` or the legacy ``ctx_101``; anything else is a 400 naming the parameter."""
    match = CONTEXT_ID_PATTERN.fullmatch(text)
    if match is None:
        raise WrongParameter(
            f"{parameter} '{text[:64]}' is not a context id: a number such as 101 (or the legacy ctx_101)",
            data={"parameter": parameter},
        )
    return str(int(text.removeprefix("ctx_")))


# --- contexts ---------------------------------------------------------------------------------


class ExcludedViewedItems(BaseModel):
    """Leave out items the user already interacted with (by default: viewed)."""

    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool = Field(True, description="Whether the exclusion applies.")
    interaction_types: list[Annotated[StrictStr, Field(min_length=1, max_length=64)]] = Field(
        default_factory=lambda: ["view"], min_length=1, max_length=20, description="Event types that count as seen."
    )
    window_days: StrictInt | None = Field(
        None, ge=1, le=730, description="Only events this recent count; null: the whole history read (1,000 events)."
    )


def _also_boolean(schema: dict[str, Any]) -> None:
    """The document of a field that also takes ``true`` / ``false`` (read by a before-validator)."""
    schema["anyOf"] = [*schema.get("anyOf", []), {"type": "boolean"}]


class ContextBody(BaseModel):
    """PUT /v1/contexts/{context_id}: what a list shown in one place of an application looks like."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[StrictStr, Field(min_length=1, max_length=128)] = Field(description="Display name.")
    description: Annotated[StrictStr, Field(max_length=1024)] | None = None
    entity_type: EntityType = Field("User", description="The entity the context's lists are for.")
    scenario: ScenarioName | None = Field(
        None,
        description="Scenario applied (profile_to_items for User, item_to_items for Item); it picks the model. "
        "Null: the reco type's default scenario.",
    )
    filters: list[StrictStr | FreeForm] = Field(
        default_factory=list,
        max_length=MAX_CONTEXT_FILTERS,
        description="Default filters: shorthand strings (category:electronics) or scope objects "
        "({column, operator, value, logic}); combined with the request's.",
    )
    group_by: Annotated[StrictStr, Field(pattern=PROPERTY_PATTERN)] | None = Field(
        None, description="Item property to group by: data then holds grouped aggregates."
    )
    group_size: StrictInt = Field(3, ge=1, le=20, description="Items shown per group.")
    excluded_viewed_items: ExcludedViewedItems | None = Field(
        None,
        description="Exclude items already seen; `true` is the default exclusion (viewed items), `false` none.",
        json_schema_extra=_also_boolean,
    )
    limit: StrictInt | None = Field(None, ge=1, le=MAX_LIMIT, description="Page size when the request sets none.")

    @field_validator("excluded_viewed_items", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        if value is True:
            return {}
        if value is False:
            return {"enabled": False}
        return value


class Context(ContextBody):
    object: Literal["context"] = "context"
    id: str = Field(description="The numeric context id.")
    created_at: str
    updated_at: str


class ContextWritten(Context):
    warnings: list[str] = Field(default_factory=list, description="Settings that will not take effect as written.")


class ContextList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Context]
    has_more: bool
    next_cursor: str | None


# --- GET /v1/recommendations --------------------------------------------------------------------


class ItemDetails(BaseModel):
    id: str
    object: Literal["item"] = "item"
    name: str | None = Field(description="The item's name (or title) property.")
    description: str | None
    metadata: dict[str, JsonValue] = Field(description="Every other catalog property.")


class ItemExplanation(BaseModel):
    summary: str
    shown_because: list[str]
    source: str = Field(
        description="user_profile, session_history, item_similarity, text_match, popular_in_category or trending."
    )
    score: float
    pipeline: dict[str, JsonValue] = Field(description="Model, version, recipe, reco type and scenario path.")
    rules: list[dict[str, JsonValue]] = Field(description="Scenario and request rules that shaped the list.")
    experiments: list[dict[str, JsonValue]] = Field(description="A/B variants applied.")
    context: dict[str, JsonValue] | None
    anchor: dict[str, JsonValue] | None = Field(
        None, description="The history item that contributed most to the score, and its share."
    )


class Recommendation(BaseModel):
    id: str = Field(description="rec_<item_id>: pass it as starting_after.")
    object: Literal["recommendation"] = "recommendation"
    item_id: str
    rank: int
    score: float
    item: ItemDetails
    explanation: ItemExplanation


class RecommendationGroup(BaseModel):
    id: str = Field(description="grp_<value>.")
    object: Literal["recommendation_group"] = "recommendation_group"
    group_by: str
    value: JsonValue
    rank: int
    score: float = Field(description="The best item score of the group.")
    count: int = Field(description="Items of the group in the ranked list.")
    items: list[Recommendation]


class EmbeddingInfo(BaseModel):
    source: str = Field(description="model (stored profile), events (folded in), text, item, or default.")
    used_default: bool
    default_reason: str | None
    dimension: int | None
    expected_dimension: int | None


class Section(BaseModel):
    key: str
    type: Literal["because_you_viewed", "popular_in_category", "trending"]
    title: str
    anchor_item_id: str | None = None
    category: str | None = None


class RecommendationList(BaseModel):
    object: Literal["list"] = "list"
    message: str = "Recommendations fetched"
    request_id: str
    url: str = "/v1/recommendations"
    data: list[Recommendation | RecommendationGroup]
    recommendations: list[Recommendation | RecommendationGroup]
    has_more: bool
    next_cursor: str | None
    limit: int
    quantity: int
    embedding_info: EmbeddingInfo
    cold_start_fallback_used: bool
    explanation: dict[str, JsonValue]
    excluded_viewed_items: dict[str, JsonValue] | None
    processing_time_ms: int
    mode: Mode
    section: Section | None = Field(None, description="Auto mode only.")
    done: bool | None = Field(None, description="Auto mode only: no section is left after this one.")
    experiments: list[dict[str, JsonValue]]
    user_segments: list[str]
    pipeline_id: int | None = Field(description="The context id, when a context applied.")

    def body(self) -> dict[str, Any]:
        """The JSON body: ``section`` and ``done`` only in auto mode."""
        exclude = {"section", "done"} if self.mode == "single" else set()
        return self.model_dump(mode="json", exclude=exclude)
