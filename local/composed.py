"""Every function's router in one app (locally and in HTTP tests), and the gateway in front of it."""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable

from fastapi import APIRouter, FastAPI

from local.docs import add_offline_docs, declare_bearer_token, declare_shared_responses
from local.gateway import GatewaySettings, JwtVerifier, LocalGateway
from local.template import http_functions, parameter_default, resources, routes
from local.tokens import LOCAL_AUDIENCE, LOCAL_ISSUER, ensure_keys
from reco.api import build_app
from reco.tenant_share import InMemoryWindowCounter, TenantLimiter, TenantShare


def function_routers() -> dict[str, APIRouter]:
    """``{function logical id: router}``, importing each handler module the way Lambda does."""
    return {spec.logical_id: importlib.import_module(spec.module).router for spec in http_functions()}


def compose_app(tenant_limiter: TenantLimiter | None = None) -> FastAPI:
    """Every router in one app; ``tenant_limiter`` counts each tenant's share (None: no share)."""
    app = build_app(*function_routers().values(), title="reco", openapi=True, tenant_limiter=lambda: tenant_limiter)
    add_offline_docs(app)
    declare_bearer_token(app, routes())  # every route is behind the template's JWT authorizer
    declare_shared_responses(app, routes())  # the authorizer's, the throttle's and the body checks' answers
    return app


def gateway_settings(throttling: bool = True, function_concurrency: int = 0) -> GatewaySettings:
    (api,) = resources("AWS::Serverless::HttpApi").values()
    cors = api["Properties"].get("CorsConfiguration", {})
    return GatewaySettings(
        routes=routes(),
        verifier=JwtVerifier(ensure_keys()[1], LOCAL_ISSUER, LOCAL_AUDIENCE),
        throttle_rate=float(parameter_default("ThrottlingRateLimit")),
        throttle_burst=int(parameter_default("ThrottlingBurstLimit")),
        throttling=throttling,
        function_concurrency=function_concurrency,
        cors_origins=tuple(cors.get("AllowOrigins", ("*",))),
        cors_headers=tuple(cors.get("AllowHeaders", ())),
        cors_methods=tuple(cors.get("AllowMethods", ())),
    )


def template_tenant_share() -> TenantShare | None:
    """Each tenant's share of a route as template.yaml deploys it by default (TenantRateLimit 0: none)."""
    rate, burst = float(parameter_default("TenantRateLimit")), int(parameter_default("TenantBurstLimit"))
    return TenantShare(rate, burst) if rate > 0 else None


def local_tenant_limiter(clock: Callable[[], float] = time.time) -> TenantLimiter | None:
    """The template's tenant share counted in this process: one process serves every request here,
    where Lambda's containers each have their own memory and share a DynamoDB counter instead."""
    share = template_tenant_share()
    return None if share is None else TenantLimiter(share, InMemoryWindowCounter(), clock)


def throttling_enabled() -> bool:
    return os.environ.get("RECO_THROTTLING", "on").lower() not in {"0", "off", "false", "no"}


def gateway_app(throttling: bool | None = None, function_concurrency: int = 0) -> LocalGateway:
    """The composed app behind the emulated API Gateway: what ``make run`` serves. Throttling covers
    both budgets: the gateway's per route, and the functions' share of it per tenant."""
    enabled = throttling_enabled() if throttling is None else throttling
    limiter = local_tenant_limiter() if enabled else None
    return LocalGateway(compose_app(limiter), gateway_settings(enabled, function_concurrency))
