"""POST /v1/recommend: rank a caller's candidate items (Lambda function ``RankingFunction``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from reco.api import build_app, lambda_handler, require_roles
from reco.identity import Identity, Role
from reco.ranking.service import rank_candidates
from reco.schemas.ranking import RecommendRequest, RecommendResponse
from reco.services.ranking import ranking_services

# Candidate lists carry prices and stock that steer the ranking: a server-side call, so the
# browser-facing `frontend` role may not use it.
RANKING_ROLES = (Role.ROOT, Role.MANAGER, Role.BACKEND)

router = APIRouter(tags=["ranking"])


@router.post(
    "/v1/recommend",
    response_model=RecommendResponse,
    response_model_exclude_none=True,
    summary="Rank candidate items for a user and/or session",
    responses={
        400: {"description": "Malformed JSON or invalid parameters"},
        401: {"description": "Missing or invalid token"},
        403: {"description": "The token's roles may not rank"},
        404: {"description": "Unknown model_id"},
        413: {"description": "Body over 1 MiB"},
        415: {"description": "Body is not JSON"},
        429: {"description": "Rate limit exceeded"},
        503: {"description": "Model not trained yet, or temporarily unavailable"},
    },
)
async def recommend(
    body: RecommendRequest, request: Request, identity: Identity = Depends(require_roles(*RANKING_ROLES))
) -> RecommendResponse:
    return rank_candidates(identity.tenant, body, ranking_services(), request.state.request_id)


app = build_app(router, title="reco ranking")
handler = lambda_handler(app)
