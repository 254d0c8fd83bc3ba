"""/v1/events and the per user / per session event lists (Lambda function ``EventsFunction``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from reco.api import build_app, lambda_handler, require_roles
from reco.identity import Identity, Role
from reco.ingestion import ingest_events, list_events
from reco.schemas.events import EventIngestResponse, EventPage, PostEventsRequest
from reco.stores.events import event_store

# Server-side data routes: a browser token (`frontend`) may neither send nor read events.
EVENTS_ROLES = (Role.ROOT, Role.MANAGER, Role.BACKEND)

UserId = Annotated[str, Path(min_length=1, max_length=256, description="The user's id.")]
SessionId = Annotated[str, Path(min_length=1, max_length=256, description="The session's id.")]
Limit = Annotated[int, Query(ge=1, le=100, description="Events per page.")]
Cursor = Annotated[str | None, Query(max_length=4096, description="The next_cursor of the previous page.")]
COMMON = {401: {"description": "Missing or invalid token"}, 403: {"description": "The token's roles may not do this"}}
READ = {**COMMON, 400: {"description": "Malformed cursor, or a cursor of another list"}}

router = APIRouter(tags=["events"])


@router.post(
    "/v1/events",
    response_model=EventIngestResponse,
    summary="Store up to 1,000 interactions (idempotent on event_id)",
    responses={
        **COMMON,
        413: {"description": "Body over 1 MiB"},
        422: {"description": "Not an object of 1 to 1,000 rows (each row is checked on its own: see rejected)"},
    },
)
async def post_events(
    body: PostEventsRequest, identity: Identity = Depends(require_roles(*EVENTS_ROLES))
) -> EventIngestResponse:
    return EventIngestResponse.of(ingest_events(identity.tenant, body.events, event_store()))


@router.get(
    "/v1/users/{user_id}/events",
    response_model=EventPage,
    summary="A user's events, newest first (includes events sent a moment ago)",
    responses=READ,
)
async def user_events(
    user_id: UserId,
    limit: Limit = 20,
    cursor: Cursor = None,
    identity: Identity = Depends(require_roles(*EVENTS_ROLES)),
) -> EventPage:
    return EventPage.of(list_events(identity.tenant, event_store(), user_id=user_id, cursor=cursor, limit=limit))


@router.get(
    "/v1/sessions/{session_id}/events",
    response_model=EventPage,
    summary="A session's events, newest first (includes events sent a moment ago)",
    responses=READ,
)
async def session_events(
    session_id: SessionId,
    limit: Limit = 20,
    cursor: Cursor = None,
    identity: Identity = Depends(require_roles(*EVENTS_ROLES)),
) -> EventPage:
    page = list_events(identity.tenant, event_store(), session_id=session_id, cursor=cursor, limit=limit)
    return EventPage.of(page)


app = build_app(router, title="reco events")
handler = lambda_handler(app)
