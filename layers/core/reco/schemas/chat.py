"""Request and response of POST /v1/chat (chat-api.txt): ChatRequest, Event, ChatResponse, Item."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, StrictStr
from pydantic_core import PydanticUseDefault

MAX_MESSAGE_CHARS = 2000
MAX_EVENTS = 100
MAX_LIMIT = 20
DEFAULT_LIMIT = 4
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"


def _has_words(text: str) -> str:
    if not text.strip():
        raise ValueError("message is empty: write what you are looking for")
    return text


Id = Annotated[StrictStr, Field(pattern=ID_PATTERN)]

# What an event's timestamp may be (the reference says "ISO 8601"; clients send all three).
TIMESTAMP_FORMS = (
    "an ISO 8601 date-time with a zone ('2024-06-14T10:00:00Z', '2024-06-14T12:00:00+02:00'), "
    "without one (read as UTC: '2024-06-14T10:00:00') or a date ('2024-06-14', midnight UTC)"
)


def _event_timestamp(value: Any) -> datetime:
    """An event's moment in UTC: a time without a zone is UTC, a date alone its midnight UTC."""
    if isinstance(value, datetime | date):
        value = value.isoformat()
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except (ValueError, OverflowError):  # OverflowError: a zone that moves year 1 or 9999 out of range
            pass
    raise ValueError(f"timestamp must be {TIMESTAMP_FORMS}")


EventTimestamp = Annotated[datetime, PlainValidator(_event_timestamp)]


def _null_is_absent(value: Any) -> Any:
    """``null`` for an optional field means the field left out (clients of the reference send both)."""
    if value is None:
        raise PydanticUseDefault()
    return value


def _also_null(schema: dict[str, Any]) -> None:
    """Say in the JSON schema that ``null`` is accepted (as absent), beside the field's own type."""
    own = {k: schema.pop(k) for k in list(schema) if k not in ("title", "description", "default")}
    schema["anyOf"] = [own, {"type": "null"}]


class ChatEventIn(BaseModel):
    """An interaction of the shopper relevant to the conversation (a page viewed, an item clicked)."""

    model_config = ConfigDict(extra="forbid")

    timestamp: EventTimestamp = Field(
        description=f"When the event happened: {TIMESTAMP_FORMS}.",
        json_schema_extra={"type": "string", "format": "date-time"},
    )
    type: Annotated[StrictStr, Field(min_length=1, max_length=64)] = Field(description="browse, click, purchase …")
    item_id: Annotated[StrictStr, Field(min_length=1, max_length=128)] | None = Field(
        None, description="The item of the event, if any."
    )
    description: Annotated[StrictStr, Field(max_length=1000)] | None = Field(
        None, description="Free-text description of the event."
    )


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: Annotated[StrictStr, Field(min_length=1, max_length=MAX_MESSAGE_CHARS), AfterValidator(_has_words)] = (
        Field(description="The shopper's message, e.g. 'I am looking for a birthday gift for my dad'.")
    )
    conversation_id: Id | None = Field(
        None,
        description="Continue this conversation; an id not seen before starts one under it "
        "(404 if a browser token names another subject's conversation).",
    )
    session_id: Id | None = Field(None, description="The shopper's session: its events personalise.")
    user_id: Id | None = Field(None, description="The shopper: their history personalises.")
    events: Annotated[list[ChatEventIn], BeforeValidator(_null_is_absent)] = Field(
        default_factory=list, max_length=MAX_EVENTS, json_schema_extra=_also_null
    )
    limit: Annotated[int, BeforeValidator(_null_is_absent)] = Field(
        DEFAULT_LIMIT,
        ge=1,
        le=MAX_LIMIT,
        description="Maximum number of items to return (null: the default, 4).",
        json_schema_extra=_also_null,
    )


class ChatItem(BaseModel):
    item_id: str
    title: str | None
    status: str = Field(description="active, or out_of_stock / inactive from the catalog.")
    description: str | None
    price: str | None = Field(description="The price as a decimal string, e.g. '999.99'.")


class ChatResponse(BaseModel):
    conversation_id: str
    message: str
    items: list[ChatItem]
