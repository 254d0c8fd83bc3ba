"""GET /v1/recommendations and the contexts it reads (Lambda function ``ListsFunction``).

Query parameters keep the reference's names and aliases (``quantity`` for ``limit``, ``filters``
for ``filter``, camelCase ids); ids and SDK details may come as headers, which win.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from reco.api import build_app, lambda_handler, require_roles
from reco.api.middleware import has_request_id_header, is_valid_request_id
from reco.errors import WrongParameter
from reco.identity import Identity, Role
from reco.lists.contexts import delete_context, get_context, list_contexts, put_context
from reco.lists.query import ClientInfo, ListQuery
from reco.lists.service import recommendation_list
from reco.schemas.lists import MAX_LIMIT, Context, ContextBody, ContextList, ContextWritten, RecommendationList
from reco.schemas.lists import context_number as parse_context_id
from reco.schemas.parameters import (
    CONTEXT_ID_FORM,
    CONTEXT_ID_MAX_LENGTH,
    REQUEST_ID_FORM,
    SHORTHAND_FILTER_FORM,
    SHORTHAND_FILTER_MAX_LENGTH,
    documented,
)
from reco.services.lists import context_services, list_services

READERS = (Role.ROOT, Role.MANAGER, Role.BACKEND, Role.FRONTEND, Role.READ)
MANAGERS = (Role.ROOT, Role.MANAGER)
# Tokens of servers: they may see why a list suits any user. Browser tokens (frontend, read) see the
# history behind a list only for their own subject.
SERVER_ROLES = frozenset({Role.ROOT, Role.MANAGER, Role.BACKEND})
ERRORS = {
    400: {"description": "Validation failed, malformed filter, or malformed pagination cursor"},
    401: {"description": "Missing or invalid access token"},
    403: {"description": "The token does not include reco/read (or another role that may read)"},
    404: {"description": "Unknown context or item"},
    503: {"description": "No trained model yet"},
}
Id = Annotated[str | None, Query(min_length=1, max_length=64)]
Text = Annotated[str | None, Query(max_length=128)]
# Read by the route itself (its 400 names the parameter and the form); the document states the form.
ContextIdText = Annotated[str, documented(CONTEXT_ID_FORM, CONTEXT_ID_MAX_LENGTH)]
ShorthandFilter = Annotated[str, documented(SHORTHAND_FILTER_FORM, SHORTHAND_FILTER_MAX_LENGTH)]
RequestIdText = Annotated[str, documented(REQUEST_ID_FORM, 128)]

router = APIRouter(tags=["lists"])


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v is not None and v != ""), None)


def _request_id(request: Request, from_query: str | None) -> str:
    """The header's id (the middleware took it) unless only the query string names one."""
    if from_query is not None and not has_request_id_header(request.scope):
        if not is_valid_request_id(from_query):
            raise WrongParameter(
                "request_id must be 1-128 characters of letters, digits and . _ : = + - (a UUID fits)",
                data={"parameter": "request_id"},
            )
        request.state.request_id = from_query
    return str(request.state.request_id)


@router.get(
    "/v1/recommendations",
    response_model=RecommendationList,
    summary="Ranked recommendation objects for a user or an item",
    responses=ERRORS,
)
async def get_recommendations(
    request: Request,
    user_id: Id = None,
    item_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="entity_type=Item: the item.")
    ] = None,
    context_id: Annotated[ContextIdText | None, Query(description="101, or the legacy ctx_101.")] = None,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT, description="Default 20 (or the context's).")] = None,
    quantity: Annotated[int | None, Query(ge=1, le=MAX_LIMIT, description="Legacy alias for limit.")] = None,
    starting_after: Annotated[str | None, Query(max_length=16_384)] = None,
    entity_type: Annotated[Literal["User", "Item"] | None, Query(description="Default User.")] = None,
    name: Text = None,
    description: Annotated[str | None, Query(max_length=2048)] = None,
    filter: Annotated[
        list[ShorthandFilter] | None,
        Query(
            description="Shorthand filter ([AND:|OR:]property op value, op one of != >= <= > < ~ : =); repeat "
            "to combine (at most 20 filters with filters, scope and the context's). Values are typed against the "
            "catalog: a number property takes a number, a boolean one true or false.",
        ),
    ] = None,
    filters: Annotated[list[ShorthandFilter] | None, Query(description="Alias for filter.")] = None,
    scope: Annotated[str | None, Query(max_length=8192, description='JSON: {"filters": [...]}')] = None,
    mode: Annotated[Literal["single", "auto"], Query()] = "single",
    cursor: Annotated[str | None, Query(max_length=16_384)] = None,
    window_days: Annotated[int, Query(ge=1, le=730)] = 14,
    candidate_limit: Annotated[int, Query(ge=1, le=500)] = 50,
    served_cap: Annotated[int, Query(ge=1, le=100)] = 50,
    request_id: Annotated[
        RequestIdText | None, Query(description="Adopted unless an X-Request-Id header is sent.")
    ] = None,
    request_id_camel: Annotated[
        RequestIdText | None, Query(alias="requestId", description="Alias for request_id.")
    ] = None,
    session_id: Id = None,
    session_id_camel: Annotated[str | None, Query(alias="sessionId", min_length=1, max_length=64)] = None,
    anonymous_id: Id = None,
    anonymous_id_camel: Annotated[str | None, Query(alias="anonymousId", min_length=1, max_length=64)] = None,
    x_session_id: Annotated[str | None, Header(max_length=64)] = None,
    x_anonymous_id: Annotated[str | None, Header(max_length=64)] = None,
    x_sdk: Annotated[str | None, Header(max_length=64)] = None,
    x_sdk_version: Annotated[str | None, Header(max_length=64)] = None,
    x_platform: Annotated[str | None, Header(max_length=64)] = None,
    identity: Identity = Depends(require_roles(*READERS)),
) -> JSONResponse:
    # First, so that every error of this request (a 400 below too) carries the id the caller sent.
    adopted = _request_id(request, _first(request_id, request_id_camel))
    if limit is not None and quantity is not None and limit != quantity:
        raise WrongParameter(
            f"limit ({limit}) and its legacy alias quantity ({quantity}) disagree: send one",
            data={"parameter": "quantity"},
        )
    query = ListQuery(
        user_id=user_id,
        item_id=item_id,
        entity_type=entity_type,
        context_id=context_id,
        limit=limit or quantity,
        starting_after=starting_after,
        cursor=cursor,
        name=name,
        description=description,
        filters=[*(filter or []), *(filters or [])],
        scope=scope,
        mode=mode,
        window_days=window_days,
        candidate_limit=candidate_limit,
        served_cap=served_cap,
        session_id=_first(x_session_id, session_id, session_id_camel),
        anonymous_id=_first(x_anonymous_id, anonymous_id, anonymous_id_camel),
        client=ClientInfo(sdk=x_sdk, sdk_version=x_sdk_version, platform=x_platform),
        reveal_history=bool(identity.roles & SERVER_ROLES) or user_id in (None, identity.subject),
    )
    result = recommendation_list(
        identity.tenant,
        query,
        list_services(),
        subject=identity.subject,
        request_id=adopted,
    )
    return JSONResponse(result.body())


ContextId = Annotated[ContextIdText, Path(description="A number such as 101 (legacy: ctx_101).")]


@router.put(
    "/v1/contexts/{context_id}", response_model=ContextWritten, summary="Create or replace a context", responses=ERRORS
)
async def put_context_route(
    context_id: ContextId, body: ContextBody, identity: Identity = Depends(require_roles(*MANAGERS))
) -> ContextWritten:
    number = parse_context_id(context_id)
    return put_context(identity.tenant, number, body, context_services(), datetime.now(UTC))


@router.get("/v1/contexts/{context_id}", response_model=Context, summary="Read a context", responses=ERRORS)
async def get_context_route(context_id: ContextId, identity: Identity = Depends(require_roles(*MANAGERS))) -> Context:
    return get_context(identity.tenant, parse_context_id(context_id), context_services())


@router.delete(
    "/v1/contexts/{context_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a context",
    responses=ERRORS,
)
async def delete_context_route(
    context_id: ContextId, identity: Identity = Depends(require_roles(*MANAGERS))
) -> Response:
    delete_context(identity.tenant, parse_context_id(context_id), context_services())
    return Response(status_code=204, media_type="application/json")


@router.get("/v1/contexts", response_model=ContextList, summary="List contexts by number", responses=ERRORS)
async def list_contexts_route(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    identity: Identity = Depends(require_roles(*MANAGERS)),
) -> ContextList:
    return list_contexts(identity.tenant, limit, cursor, context_services())


app = build_app(router)
handler = lambda_handler(app)
