"""Request and response of POST /v1/chat (chat-api.txt): ChatRequest, Event, ChatResponse, Item."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictStr

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


class ChatEventIn(BaseModel):
    """An interaction of the shopper relevant to the conversation (a page viewed, an item clicked)."""

    model_config = ConfigDict(extra="forbid")

    timestamp: AwareDatetime = Field(description="ISO 8601 timestamp of the event, with a time zone.")
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
    conversation_id: Id | None = Field(None, description="Continue this conversation (404 if unknown).")
    session_id: Id | None = Field(None, description="The shopper's session: its events personalise.")
    user_id: Id | None = Field(None, description="The shopper: their history personalises.")
    events: list[ChatEventIn] = Field(default_factory=list, max_length=MAX_EVENTS)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Maximum number of items to return.")


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
