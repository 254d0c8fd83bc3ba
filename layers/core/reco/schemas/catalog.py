"""PUT/GET /v1/items and /v1/users: rows, batches and responses.

A batch's top level is validated as a whole (at most 1,000 rows, no unknown keys); each row is then
validated on its own by the ingestion service, so one bad row is reported and the others are stored.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictStr, WithJsonSchema

from reco.records import IngestResult, Item, Page, User, iso_millis
from reco.schemas.bounds import NUMBER_SCHEMA
from reco.schemas.ranking import ATTRIBUTE_VALUE_SCHEMA, Identifier, check_attribute_value

MAX_BATCH = 1000
MAX_ITEM_PROPERTIES = 64
MAX_PROPERTY_NAME = 128
# DynamoDB numbers: 38 significant digits, magnitudes from 1e-130 to below 1e126.
MAX_NUMBER_DIGITS = 38
MAX_NUMBER_MAGNITUDE = 1e126
MIN_NUMBER_MAGNITUDE = 1e-130

PropertyName = Annotated[StrictStr, Field(min_length=1, max_length=MAX_PROPERTY_NAME)]


def check_number(value: Any) -> int | float:
    """A finite JSON number that the database stores exactly (never a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if isinstance(value, int):
        if len(str(abs(value)).rstrip("0")) > MAX_NUMBER_DIGITS:
            raise ValueError(f"numbers have at most {MAX_NUMBER_DIGITS} significant digits")
        if abs(value) >= MAX_NUMBER_MAGNITUDE:
            raise ValueError("numbers must be below 1e126 in magnitude")
        return value
    if not math.isfinite(value):
        raise ValueError("numbers must be finite")
    if value != 0 and not MIN_NUMBER_MAGNITUDE <= abs(value) < MAX_NUMBER_MAGNITUDE:
        raise ValueError("numbers must be 0 or between 1e-130 and 1e126 in magnitude")
    return value


def check_property_value(value: Any) -> Any:
    """The ranking request's attribute shapes, with numbers the database can store."""
    value = check_attribute_value(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        check_number(value)
    return value


CheckedPropertyValue = Annotated[Any, PlainValidator(check_property_value), WithJsonSchema(ATTRIBUTE_VALUE_SCHEMA)]
CheckedNumber = Annotated[Any, PlainValidator(check_number), WithJsonSchema(NUMBER_SCHEMA)]


class ItemRow(BaseModel):
    """One item of a PUT /v1/items batch. It replaces the stored item's properties as a whole."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"id": "EC5792", "properties": {"category": "shoes", "price": 49.99}}]},
    )

    id: Identifier = Field(description="The item's id, unique within the tenant.")
    properties: dict[PropertyName, CheckedPropertyValue] = Field(
        default_factory=dict,
        max_length=MAX_ITEM_PROPERTIES,
        description="Strings, numbers, booleans or arrays of strings (at most 64).",
    )


class UserRow(BaseModel):
    """One user of a PUT /v1/users batch. It replaces the stored user's properties as a whole."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"id": "2f396d29fb98", "properties": {"segment": "vip", "country": "FR"}}]},
    )

    id: Identifier = Field(description="The user's id, unique within the tenant.")
    properties: dict[PropertyName, CheckedPropertyValue] = Field(
        default_factory=dict,
        max_length=MAX_ITEM_PROPERTIES,
        description="Strings, numbers, booleans or arrays of strings (at most 64).",
    )


# Rows are read as raw JSON here and validated one by one (a bad row must not fail the batch); the
# documented schema is still the row model's.
RawItemRow = Annotated[Any, WithJsonSchema(ItemRow.model_json_schema())]
RawUserRow = Annotated[Any, WithJsonSchema(UserRow.model_json_schema())]


class PutItemsRequest(BaseModel):
    """Upsert up to 1,000 items. If an id appears twice, its last valid row wins."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"id": "EC5792", "properties": {"category": "shoes", "price": 49.99, "tags": ["running"]}},
                        {"id": "FC7890", "properties": {"category": "socks", "price": 12.0, "on_sale": True}},
                    ]
                }
            ]
        },
    )

    items: list[RawItemRow] = Field(min_length=1, max_length=MAX_BATCH, description="1 to 1,000 items.")


class PutUsersRequest(BaseModel):
    """Upsert up to 1,000 users' properties. If an id appears twice, its last valid row wins."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"users": [{"id": "2f396d29fb98", "properties": {"segment": "vip"}}]}]},
    )

    users: list[RawUserRow] = Field(min_length=1, max_length=MAX_BATCH, description="1 to 1,000 users.")


class RejectedRow(BaseModel):
    index: int = Field(description="The row's position in the request (0-based).")
    error: str = Field(description="Why the row was not stored, and what to fix.")


class IngestResponse(BaseModel):
    accepted: int = Field(description="Rows stored.")
    rejected: list[RejectedRow] = Field(description="Rows not stored, each with its reason.")

    @classmethod
    def of(cls, result: IngestResult) -> IngestResponse:
        rejected = [RejectedRow(index=r.index, error=r.error) for r in result.rejected]
        return cls(accepted=result.accepted, rejected=rejected)


class ItemResponse(BaseModel):
    id: str = Field(description="The item's id.")
    properties: dict[str, Any] = Field(description="The item's properties as last written.")
    updated_at: str | None = Field(description="When the item was last written (UTC).")

    @classmethod
    def of(cls, record: Item | User) -> Self:
        updated = iso_millis(record.updated_at) if record.updated_at else None
        return cls(id=record.id, properties=dict(record.properties), updated_at=updated)


class UserResponse(ItemResponse):
    pass


class ItemPage(BaseModel):
    items: list[ItemResponse] = Field(description="Items in id order.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")

    @classmethod
    def of(cls, page: Page[Item]) -> ItemPage:
        return cls(items=[ItemResponse.of(item) for item in page.records], next_cursor=page.next_cursor)
