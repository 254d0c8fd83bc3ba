"""Scenario-driven recommendations and the scenario preview (Lambda function ``RecommendationFunction``).

Each route parses its request into an ``ItemsRequest`` and calls ``recommend_items``; GET routes
take filters and reranking rules in their URL forms (``year:gte:1990``, ``genres:diversity:0.5``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field

from reco.api import build_app, lambda_handler, require_roles
from reco.identity import Identity, Role
from reco.recommendations.requests import body_request, url_request
from reco.recommendations.service import ItemsRequest, recommend_items
from reco.scenarios.url_forms import parse_url_filter, parse_url_reranking
from reco.schemas.parameters import (
    URL_FILTER_FORM,
    URL_FILTER_MAX_LENGTH,
    URL_RERANKING_FORM,
    URL_RERANKING_MAX_LENGTH,
    documented,
)
from reco.schemas.recommendation import (
    GenericItemsRequest,
    ItemsQuery,
    ItemsResponse,
    PreviewRequest,
    SessionItemsRequest,
)
from reco.schemas.scenarios import SCENARIO_NAME_PATTERN
from reco.services.recommendations import recommendation_services

ROLES = (Role.ROOT, Role.MANAGER, Role.BACKEND, Role.FRONTEND)
Id = Annotated[str, Path(min_length=1, max_length=64, description="Item or user id.")]
OptionalId = Annotated[str | None, Query(min_length=1, max_length=64)]
# Read by parse_url_filter / parse_url_reranking (a 400 naming the form); the document states the form.
UrlFilter = Annotated[str, Field(max_length=URL_FILTER_MAX_LENGTH), documented(URL_FILTER_FORM, URL_FILTER_MAX_LENGTH)]
UrlReranking = Annotated[
    str, Field(max_length=URL_RERANKING_MAX_LENGTH), documented(URL_RERANKING_FORM, URL_RERANKING_MAX_LENGTH)
]
COMMON = {
    400: {"description": "WrongData: WRONG_DATA_TYPE / WRONG_OP_USE / WRONG_PARAMETER"},
    401: {"description": "Missing or invalid token"},
    403: {"description": "The token's roles may not do this"},
    404: {"description": "NotFoundError: SCENARIO_NOT_FOUND / ITEM_PROPERTY_NOT_FOUND / ITEM_NOT_FOUND"},
    503: {"description": "ServerUnavailable: DATABASE_NOT_READY (no trained model)"},
}

router = APIRouter(tags=["recommendation"])


def url_query(
    scenario: Annotated[str | None, Query(pattern=SCENARIO_NAME_PATTERN, description="Scenario to apply.")] = None,
    amt: Annotated[int | None, Query(ge=0, le=64, description="Maximum amount of items returned.")] = None,
    filters: Annotated[
        list[UrlFilter] | None,
        Query(
            max_length=10,
            description="property:op:value, repeated (op any case; empty / notempty take no value, in / notin a "
            "JSON list, the others one JSON value or plain text, ftsearch a non-empty text).",
        ),
    ] = None,
    reranking: Annotated[
        list[UrlReranking] | None,
        Query(max_length=10, description="property:diversity[:weight], the weight above 0 and at most 100."),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page.")] = None,
    skip_default_scenario: Annotated[bool, Query(description="Do not merge the default scenario.")] = False,
    exclude_rated_items: Annotated[bool | None, Query(description="Exclude items already interacted with.")] = None,
) -> ItemsQuery:
    """The query string every GET recommendation takes."""
    return ItemsQuery(
        scenario=scenario,
        amt=amt,
        filters=[parse_url_filter(f) for f in filters or []],
        reranking=[parse_url_reranking(r) for r in reranking or []],
        cursor=cursor,
        skip_default_scenario=skip_default_scenario,
        exclude_rated_items=exclude_rated_items,
    )


def _serve(
    identity: Identity, request: Request, response: Response, items: ItemsRequest, body: PreviewRequest | None = None
) -> ItemsResponse:
    result = recommend_items(
        identity.tenant,
        items,
        recommendation_services(),
        preview=body.preview_scenarios_params if body is not None else None,
        request_id=getattr(request.state, "request_id", None),
    )
    if result.max_age is not None:
        response.headers["Cache-Control"] = f"max-age={result.max_age}"
    return result.response


@router.get(
    "/recommendation/items/{item_id}/items/",
    response_model=ItemsResponse,
    summary="Items similar to an item (item_to_items), under its scenarios",
    responses=COMMON,
)
async def item_to_items(
    item_id: Id,
    request: Request,
    response: Response,
    user_id: OptionalId = None,
    session_id: OptionalId = None,
    query: ItemsQuery = Depends(url_query),
    identity: Identity = Depends(require_roles(*ROLES)),
) -> ItemsResponse:
    items = url_request("item_to_items", query, item_id=item_id, user_id=user_id, session_id=session_id)
    return _serve(identity, request, response, items)


@router.get(
    "/recommendation/users/{user_id}/items/",
    response_model=ItemsResponse,
    summary="Items for a user's profile (profile_to_items), under its scenarios",
    responses=COMMON,
)
async def profile_to_items(
    user_id: Id,
    request: Request,
    response: Response,
    session_id: OptionalId = None,
    query: ItemsQuery = Depends(url_query),
    identity: Identity = Depends(require_roles(*ROLES)),
) -> ItemsResponse:
    items = url_request("profile_to_items", query, user_id=user_id, session_id=session_id)
    return _serve(identity, request, response, items)


@router.post(
    "/recommendation/sessions/items/",
    response_model=ItemsResponse,
    summary="Items for an anonymous session: its stored events and/or the body's interactions or ratings",
    responses=COMMON,
)
async def session_to_items(
    body: SessionItemsRequest,
    request: Request,
    response: Response,
    identity: Identity = Depends(require_roles(*ROLES)),
) -> ItemsResponse:
    return _serve(identity, request, response, body_request("session_to_items", body))


@router.post(
    "/recommendation/generic/items/",
    response_model=ItemsResponse,
    summary="Items for a generic input: a generic scenario decides the reco type and scenario",
    responses=COMMON,
)
async def generic_input_to_items(
    body: GenericItemsRequest,
    request: Request,
    response: Response,
    identity: Identity = Depends(require_roles(*ROLES)),
) -> ItemsResponse:
    return _serve(identity, request, response, body_request("generic_input_to_items", body))


@router.post(
    "/scenarios/preview/",
    response_model=ItemsResponse,
    summary="Preview scenario parameters: a generic request where the given scenarios replace stored ones",
    responses=COMMON,
)
async def preview_scenarios(
    body: PreviewRequest,
    request: Request,
    response: Response,
    identity: Identity = Depends(require_roles(*ROLES)),
) -> ItemsResponse:
    return _serve(identity, request, response, body_request("generic_input_to_items", body), body)


app = build_app(router)
handler = lambda_handler(app)
