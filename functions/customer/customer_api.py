"""POST /api/recommend/recommend and its logs (Lambda function ``CustomerFunction``).

Recommendations from the customer data in the body (preferences, browsing and purchase history)
with a template; every request is logged before generation and its results after, and the logs
are read back newest first by GET /api/recommend/logs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from reco.api import build_app, lambda_handler, require_roles
from reco.customer.logs import LogsQuery, read_logs
from reco.customer.service import recommend_for_customer
from reco.identity import Identity, Role
from reco.schemas.customer import (
    DEFAULT_LOGS_LIMIT,
    MAX_LOGS_LIMIT,
    CustomerRecommendRequest,
    CustomerRecommendResponse,
    LogKind,
    RequestLogsPage,
)
from reco.schemas.parameters import INSTANT_FORM, documented
from reco.services.customer import customer_services

RECOMMEND_ROLES = (Role.ROOT, Role.MANAGER, Role.BACKEND, Role.FRONTEND)
LOG_ROLES = (Role.ROOT, Role.MANAGER)
COMMON: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid request parameters: `detail` names the field and what to fix"},
    401: {"description": "Invalid authentication credentials"},
    403: {"description": "The token's roles may not do this"},
    500: {"description": "Failed to get recommendations"},
}

# Read by reco.customer.logs (a 400 naming the parameter); the document states the form.
InstantText = Annotated[str, documented(INSTANT_FORM, 64)]

router = APIRouter(tags=["customer"])


@router.post(
    "/api/recommend/recommend",
    response_model=CustomerRecommendResponse,
    summary="Personalised recommendations from customer data (preferences, browsing and purchase history)",
    responses={**COMMON, 503: {"description": "No model has been trained for this tenant yet"}},
)
async def recommend(
    body: CustomerRecommendRequest,
    request: Request,
    identity: Identity = Depends(require_roles(*RECOMMEND_ROLES)),
) -> CustomerRecommendResponse:
    return recommend_for_customer(
        identity.tenant,
        body,
        customer_services(),
        request_id=request.state.request_id,
        subject=identity.subject,
    )


@router.get(
    "/api/recommend/logs",
    response_model=RequestLogsPage,
    summary="The request logs (sequence) and decision logs of POST /api/recommend/recommend, newest first",
    responses=COMMON,
)
async def logs(
    start: Annotated[
        InstantText | None,
        Query(alias="from", max_length=64, description="ISO-8601 instant with a time zone; default: to - 24 hours."),
    ] = None,
    end: Annotated[
        InstantText | None,
        Query(
            alias="to",
            max_length=64,
            description="ISO-8601 instant with a time zone; default: now. from is before to, at most 31 days "
            "earlier, both between 1970-01-02 and 9999-12-01.",
        ),
    ] = None,
    kind: Annotated[LogKind | None, Query(alias="type", description="Only sequence or decision rows.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LOGS_LIMIT, description="Rows per page.")] = DEFAULT_LOGS_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1024, description="next_cursor of the previous page.")] = None,
    identity: Identity = Depends(require_roles(*LOG_ROLES)),
) -> RequestLogsPage:
    query = LogsQuery(start=start, end=end, kind=kind, limit=limit, cursor=cursor)
    return read_logs(identity.tenant, query, customer_services().logs, now=datetime.now(UTC))


app = build_app(router)
handler = lambda_handler(app)
