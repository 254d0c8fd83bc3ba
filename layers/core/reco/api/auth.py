"""FastAPI dependencies that read the caller's identity the way API Gateway hands it over."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request

from reco.errors import Unauthenticated
from reco.identity import Identity, Role, bearer_token_payload, identity_from_claims
from reco.settings import get_settings


def jwt_claims(request: Request) -> dict[str, Any] | None:
    """``requestContext.authorizer.jwt.claims`` of the Lambda event (Mangum puts it in the scope)."""
    event = request.scope.get("aws.event")
    if not isinstance(event, dict):
        return None
    claims = event.get("requestContext", {}).get("authorizer", {}).get("jwt", {}).get("claims")
    return claims if isinstance(claims, dict) else None


async def caller(request: Request) -> Identity:
    claims = jwt_claims(request)
    if claims is None:
        raise Unauthenticated("the request carries no verified token claims")
    settings = get_settings()
    payload = bearer_token_payload(request.headers.get("authorization"))
    return identity_from_claims(claims, settings.tenant_claim, settings.role_scope_prefix, payload)


def require_roles(*allowed: Role) -> Callable[[Request], Awaitable[Identity]]:
    """A dependency that yields the caller's identity if it holds one of ``allowed`` roles, else 403."""

    async def dependency(request: Request) -> Identity:
        identity = await caller(request)
        route = request.scope.get("route")
        action = f"{request.method} {getattr(route, 'path', request.url.path)}"
        identity.require(allowed, action)
        return identity

    return dependency
