"""Requests of the scenario-driven endpoints, normalised into one ``ItemsRequest`` shape."""

from __future__ import annotations

from typing import Any

from reco.errors import WrongParameter
from reco.recommendations.facts import Requester
from reco.recommendations.service import ItemsRequest
from reco.schemas.recommendation import GenericItemsRequest, ItemsQuery, SessionItemsRequest

_QUERY_FIELDS = set(ItemsQuery.model_fields)


def runtime_params(query: ItemsQuery, ids: dict[str, Any]) -> dict[str, Any]:
    """Request parameters by name, as ``runtime_param`` conditions read them (never the cursor)."""
    fields = query.model_dump(mode="json", exclude={"filters", "reranking", "cursor"}, exclude_none=True)
    return {**fields, **{k: v for k, v in ids.items() if v is not None}}


def url_request(reco_type: str, query: ItemsQuery, **ids: str | None) -> ItemsRequest:
    """A GET recommendation: ids from the path and query string."""
    requester = Requester(**ids, params=runtime_params(query, ids))  # type: ignore[arg-type]
    return ItemsRequest(reco_type, query, requester)


def body_request(reco_type: str, body: SessionItemsRequest) -> ItemsRequest:
    """A POST recommendation (session, generic, preview): ids and history from the body."""
    if body.ratings and (body.interactions or body.session_id is not None):
        raise WrongParameter(
            "ratings are mutually exclusive with interactions and session_id: send one of them",
            data={"parameter": "ratings"},
        )
    query = ItemsQuery.model_validate(body.model_dump(include=_QUERY_FIELDS))
    ids: dict[str, Any] = {"session_id": body.session_id}
    inputs: dict[str, Any] = {}
    if isinstance(body, GenericItemsRequest):
        ids.update(user_id=body.user_id, item_id=body.item_id)
        inputs.update(
            item_properties=body.item_properties,
            context_items=tuple(dict.fromkeys(c.item_id for c in body.context_items or [])),
        )
    params = runtime_params(query, ids)
    if body.user_properties:
        params["user_properties"] = body.user_properties
    requester = Requester(
        interactions=body.interactions or [],
        ratings=body.ratings or [],
        user_properties=body.user_properties,
        params=params,
        **ids,
        **inputs,
    )
    return ItemsRequest(reco_type, query, requester)
