"""POST /v1/recommend request and response (reference: ranking-api-v1-recommend.txt)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    model_validator,
)

from reco.schemas.bounds import NUMBER_SCHEMA, check_free_form

MAX_CANDIDATES = 1000
MAX_ATTRIBUTE_INTEGER = 10**126
MAX_INT32 = 2**31 - 1  # a limit past the candidates returns them all; past this it is a typo
MAX_ATTRIBUTES = 64

MAX_STRING_ATTRIBUTE = 4096
MAX_ARRAY_ATTRIBUTE = 256
MAX_ARRAY_STRING = 1024

Identifier = Annotated[StrictStr, Field(min_length=1, max_length=256)]
AttributeValue = bool | int | float | str | list[str]


def check_attribute_value(value: Any) -> AttributeValue:
    """One check, one error message per bad value (a union would report one error per branch)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) < MAX_ATTRIBUTE_INTEGER:
            return value
        raise ValueError("attribute numbers must be below 1e126 in magnitude")  # numpy cannot hold 10**400
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise ValueError("attribute numbers must be finite")
    if isinstance(value, str):
        if len(value) <= MAX_STRING_ATTRIBUTE:
            return value
        raise ValueError(f"attribute strings are at most {MAX_STRING_ATTRIBUTE} characters")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        if len(value) <= MAX_ARRAY_ATTRIBUTE and all(len(v) <= MAX_ARRAY_STRING for v in value):
            return value
        raise ValueError(
            f"attribute arrays hold at most {MAX_ARRAY_ATTRIBUTE} strings of {MAX_ARRAY_STRING} characters"
        )
    raise ValueError("attribute values must be a string, a number, a boolean or an array of strings")


MAX_CONTEXT_BYTES = 16 * 1024
MAX_CONTEXT_DEPTH = 8


def check_context(context: dict[str, Any]) -> dict[str, Any]:
    """The context is stored with the decision: bounded, so it always fits a DynamoDB item."""
    try:
        return dict(check_free_form(context, max_depth=MAX_CONTEXT_DEPTH, max_bytes=MAX_CONTEXT_BYTES))
    except ValueError as error:
        raise ValueError(f"context {error}") from None


ATTRIBUTE_VALUE_SCHEMA = {
    "anyOf": [
        {"type": "string", "maxLength": MAX_STRING_ATTRIBUTE},
        NUMBER_SCHEMA,
        {"type": "boolean"},
        {"type": "array", "items": {"type": "string", "maxLength": MAX_ARRAY_STRING}, "maxItems": MAX_ARRAY_ATTRIBUTE},
    ]
}
CheckedAttributeValue = Annotated[Any, PlainValidator(check_attribute_value), WithJsonSchema(ATTRIBUTE_VALUE_SCHEMA)]


class CandidateItem(BaseModel):
    """One candidate with per-item context for ranking inference (price, stock, promotion …)."""

    model_config = ConfigDict(extra="forbid")

    id: Identifier = Field(description="The unique identifier of the item.")
    attributes: dict[Annotated[str, Field(min_length=1, max_length=128)], CheckedAttributeValue] = Field(
        default_factory=dict,
        max_length=MAX_ATTRIBUTES,
        description="Per-item context: strings, numbers, booleans or arrays of strings.",
    )


class RecommendRequest(BaseModel):
    """Rank a caller's candidate items for a user and/or a session."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "user_id": "2f396d29fb98",
                    "item_ids": ["EC5792", "FC7890", "QW1234"],
                    "limit": 10,
                    "model_id": "test_model_item_200",
                    "context": {"user_region": "US-CA", "device_type": "mobile"},
                }
            ]
        },
    )

    user_id: Identifier | None = Field(None, description="The user. Optional if session_id is given.")
    session_id: Identifier | None = Field(None, description="The current session. Optional if user_id is given.")
    item_ids: list[Identifier] | None = Field(
        None, min_length=1, max_length=MAX_CANDIDATES, description="Candidate item ids (exclusive with items)."
    )
    items: list[CandidateItem] | None = Field(
        None,
        min_length=1,
        max_length=MAX_CANDIDATES,
        description="Candidates with attributes (exclusive with item_ids).",
    )
    model_id: Identifier | None = Field(None, description="The model that ranks the candidates.")
    model_name: Identifier | None = Field(None, description="Legacy alias of model_id.")
    limit: StrictInt | None = Field(
        None, ge=1, le=MAX_INT32, description="The maximum number of items to return (default: every candidate)."
    )
    context: Annotated[dict[str, Any], AfterValidator(check_context)] | None = Field(
        None,
        description="Session or user context (user_region, os_platform, device_type, referrer_source …); "
        f"at most {MAX_CONTEXT_BYTES // 1024} KiB of JSON, nested at most {MAX_CONTEXT_DEPTH} levels.",
    )

    @model_validator(mode="after")
    def _check_alternatives(self) -> RecommendRequest:
        if self.user_id is None and self.session_id is None:
            raise ValueError("provide user_id, session_id, or both")
        if (self.item_ids is None) == (self.items is None):
            raise ValueError("provide exactly one of item_ids or items")
        if self.model_id is None and self.model_name is None:
            raise ValueError("provide model_id (or its legacy alias model_name)")
        if self.model_id and self.model_name and self.model_id != self.model_name:
            raise ValueError("model_id and model_name name different models; send only model_id")
        return self

    @property
    def model(self) -> str:
        return self.model_id or self.model_name or ""

    def candidates(self) -> list[CandidateItem]:
        """The candidates in request order, as items whether they came as item_ids or items."""
        if self.items is not None:
            return self.items
        return [CandidateItem(id=item_id) for item_id in self.item_ids or []]


class RankedItem(BaseModel):
    """One ranked item. Duplicate-id groups also echo the attributes that tell their rows apart."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="The unique identifier of the recommended item.")
    score: float = Field(description="The recommendation score assigned by the model.")


class Fallback(BaseModel):
    """Present when nothing personal was known about the caller, so a non-personal ranking served."""

    source: str = Field(description="What ranked the items instead, e.g. trending.", examples=["trending"])
    reason: str | None = Field(None, description="Why the personal ranking was not possible.")


class RecommendResponse(BaseModel):
    rec_id: str = Field(
        description="A unique identifier for this set of recommendations.", examples=["rec_0ujsswThIGTUYm2K8FjOOfXtY1K"]
    )
    items: list[RankedItem] = Field(description="Recommended items, highest-ranked first.")
    fallback: Fallback | None = Field(None, description="Set only when the fallback ranked the items.")
