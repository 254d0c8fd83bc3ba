"""Requests and responses of POST /api/recommend/recommend and GET /api/recommend/logs.

``sequence_data`` is the customer's data as the caller holds it: the keys below are read, any other
key is accepted and kept verbatim in the request logs (the whole object, exactly as sent, is
available as :attr:`SequenceData.raw`). History ids are JSON strings or integers, handled as the
string they spell. Histories are oldest first: the last browsed item is the most recent one.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ModelWrapValidatorHandler,
    PrivateAttr,
    StrictFloat,
    StrictStr,
    model_validator,
)

from reco.schemas.bounds import MAX_NUMBER_MAGNITUDE
from reco.schemas.recommendation import FlexibleId

MAX_CATEGORIES = 50
MAX_HISTORY = 1000
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_LOGS_LIMIT = 200
DEFAULT_LOGS_LIMIT = 50

Task = Literal["product_recommendation"]
Template = Literal["personalized", "trending", "similar", "new_arrivals"]
LogKind = Literal["sequence", "decision"]
Price = Annotated[StrictFloat, Field(ge=0, le=MAX_NUMBER_MAGNITUDE)]
Category = Annotated[StrictStr, Field(min_length=1, max_length=256)]


class PriceRange(BaseModel):
    """An inclusive price filter; either bound may be left out (a closed object: a typo is an error)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    min: Price | None = Field(None, description="Lowest price returned (inclusive).")
    max: Price | None = Field(None, description="Highest price returned (inclusive).")

    @model_validator(mode="after")
    def _ordered(self) -> PriceRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) must not be greater than max ({self.max:g})")
        return self


class CustomerPreferences(BaseModel):
    """Preferred categories (a boost, not a filter) and a price range (a filter); other keys are kept."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    __pydantic_extra__: dict[str, JsonValue] = Field(init=False)

    categories: list[Category] = Field(
        default_factory=list, max_length=MAX_CATEGORIES, description="Items of these categories rank first."
    )
    price_range: PriceRange | None = None


class SequenceData(BaseModel):
    """The customer's data: preferences and histories; any other key is allowed and logged verbatim."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    __pydantic_extra__: dict[str, JsonValue] = Field(init=False)

    customer_preferences: CustomerPreferences = Field(default_factory=CustomerPreferences)
    browsing_history: list[FlexibleId] = Field(
        default_factory=list, max_length=MAX_HISTORY, description="Items viewed, oldest first."
    )
    purchase_history: list[FlexibleId] = Field(
        default_factory=list, max_length=MAX_HISTORY, description="Items bought, oldest first; never returned."
    )
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_raw(cls, data: Any, handler: ModelWrapValidatorHandler[SequenceData]) -> SequenceData:
        # The log keeps what the caller sent (integer ids stay integers), once it is known to be valid.
        model = handler(data)
        model._raw = dict(data) if isinstance(data, dict) else model.model_dump(mode="json")
        return model

    @property
    def raw(self) -> dict[str, Any]:
        return self._raw


class CustomerRecommendRequest(BaseModel):
    """POST /api/recommend/recommend. Unknown top-level fields are refused (a typo would change nothing)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    sequence_data: SequenceData = Field(description="Customer data: preferences, histories and any context.")
    task: Task = Field(description="The recommendation task; only product_recommendation.")
    template: Template = Field(description="personalized, trending, similar (to the last browsed item), new_arrivals.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, strict=True, description="Number of results, 1-100.")


class CustomerRecommendation(BaseModel):
    recommendation_id: int | str = Field(description="The item id: an integer when every catalog id is one.")
    score: float = Field(description="Confidence 0.0-1.0, never above the score of the result before it.")
    rank: int = Field(description="1 for the best result.")


class CustomerRecommendResponse(BaseModel):
    status_code: int = Field(200, description="HTTP status code.")
    results: list[CustomerRecommendation] = Field(description="Best first.")


class RequestLogEntry(BaseModel):
    request_id: str = Field(description="The X-Request-Id of the request (also the decision's rec_id).")
    type: LogKind = Field(description="sequence: what was asked (before generation); decision: what was served.")
    created_at: str = Field(description="ISO-8601 UTC, milliseconds.")
    data: dict[str, JsonValue]


class RequestLogsPage(BaseModel):
    logs: list[RequestLogEntry] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
