"""POST /v1/chat: conversational item discovery (Lambda function ``ChatFunction``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from reco.api import build_app, lambda_handler, require_roles
from reco.chat.service import chat_turn
from reco.identity import Identity, Role
from reco.schemas.chat import ChatRequest, ChatResponse
from reco.services.chat import chat_services

ROLES = (Role.ROOT, Role.MANAGER, Role.BACKEND, Role.FRONTEND)

router = APIRouter(tags=["chat"])


@router.post(
    "/v1/chat",
    response_model=ChatResponse,
    summary="A chat turn: a short reply and items from the catalog; pass conversation_id to continue",
    responses={
        404: {"description": "conversation_id names another subject's conversation (browser tokens)"},
        409: {"description": "Two messages of one conversation at once, or 50 turns reached"},
        503: {"description": "No trained model yet"},
    },
)
async def chat(
    body: ChatRequest, request: Request, identity: Identity = Depends(require_roles(*ROLES))
) -> ChatResponse:
    return chat_turn(identity, body, chat_services(), request_id=str(request.state.request_id))


app = build_app(router)
handler = lambda_handler(app)
