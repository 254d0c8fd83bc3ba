"""Every function's router in one app (locally and in HTTP tests), and the gateway in front of it."""

from __future__ import annotations

import importlib
import os

from fastapi import APIRouter, FastAPI

from local.docs import add_offline_docs, declare_bearer_token
from local.gateway import GatewaySettings, JwtVerifier, LocalGateway
from local.template import http_functions, parameter_default, resources, routes
from local.tokens import LOCAL_AUDIENCE, LOCAL_ISSUER, ensure_keys
from reco.api import build_app


def function_routers() -> dict[str, APIRouter]:
    """``{function logical id: router}``, importing each handler module the way Lambda does."""
    return {spec.logical_id: importlib.import_module(spec.module).router for spec in http_functions()}


def compose_app() -> FastAPI:
    app = build_app(*function_routers().values(), title="reco", openapi=True)
    add_offline_docs(app)
    declare_bearer_token(app, routes())  # every route is behind the template's JWT authorizer
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


def throttling_enabled() -> bool:
    return os.environ.get("RECO_THROTTLING", "on").lower() not in {"0", "off", "false", "no"}


def gateway_app(throttling: bool | None = None, function_concurrency: int = 0) -> LocalGateway:
    """The composed app behind the emulated API Gateway: what ``make run`` serves."""
    enabled = throttling_enabled() if throttling is None else throttling
    return LocalGateway(compose_app(), gateway_settings(enabled, function_concurrency))
