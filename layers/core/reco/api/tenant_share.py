"""Each tenant's share of a route, enforced before the route runs (pure ASGI middleware).

Inside RequestContextMiddleware, so a refusal is an ordinary error answer (request id, the route
family's body, ``Retry-After``); before FastAPI parses and validates the body, so a tenant's flood
is refused for the price of one counter write each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from reco.errors import TenantRateLimited, Unauthenticated
from reco.identity import bearer_token_payload, tenant_from_claims
from reco.settings import get_settings
from reco.tenant_share import TenantLimiter


class TenantShareMiddleware:
    def __init__(self, app: ASGIApp, limiter: Callable[[], TenantLimiter | None]) -> None:
        self.app = app
        self.limiter = limiter  # called per request: the container's limiter is built on first use

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            limiter = self.limiter()
            caller = tenant_and_route(scope) if limiter is not None else None
            if limiter is not None and caller is not None:
                tenant, route = caller
                admission = limiter.admit(tenant, route)
                if not admission.admitted:
                    raise TenantRateLimited(
                        f"tenant '{tenant}' is over its share of {route} ({limiter.share.describe()}); "
                        f"retry after {admission.retry_after_seconds} s",
                        retry_after_seconds=admission.retry_after_seconds,
                    )
        await self.app(scope, receive, send)


def tenant_and_route(scope: Scope) -> tuple[str, str] | None:
    """The verified tenant and API Gateway's route key of a request; None when there is no valid
    tenant (the route itself answers 401) or no gateway event (nothing to count it by)."""
    event: Any = scope.get("aws.event")
    if not isinstance(event, dict):
        return None
    context = event.get("requestContext") or {}
    route = event.get("routeKey") or context.get("routeKey")
    claims = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims")
    if not isinstance(route, str) or not isinstance(claims, dict):
        return None
    authorization = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"authorization"), None)
    try:
        tenant = tenant_from_claims(claims, get_settings().tenant_claim, bearer_token_payload(authorization))
    except Unauthenticated:
        return None
    return tenant, route
