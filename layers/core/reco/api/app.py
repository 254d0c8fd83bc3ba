"""Build a FastAPI app from routers, and wrap it as a Lambda handler."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any, cast

from fastapi import APIRouter, FastAPI
from mangum import Mangum

from reco.api.errors import declare_validation_status, install_error_handlers
from reco.api.middleware import RequestContextMiddleware
from reco.api.tenant_share import TenantShareMiddleware
from reco.observability import logger, traced_handler
from reco.settings import get_settings
from reco.snapstart import register_runtime_hooks
from reco.stores.rate_counters import tenant_limiter as dynamodb_tenant_limiter
from reco.tenant_share import TenantLimiter

API_VERSION = "0.1.0"


def build_app(
    *routers: APIRouter,
    title: str = "reco",
    openapi: bool = False,
    tenant_limiter: Callable[[], TenantLimiter | None] = dynamodb_tenant_limiter,
) -> FastAPI:
    """One app per function in Lambda (``openapi=False``), or all routers in one app locally.

    ``tenant_limiter`` gives each tenant's share of a route: counted in DynamoDB in Lambda (every
    container shares it), in the process's memory in the local runner (local/composed.py).
    """
    app = FastAPI(
        title=title,
        version=API_VERSION,
        description="Recommendation API: ranking, personalised lists, scenarios, chat discovery.",
        openapi_url="/openapi.json" if openapi else None,
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN: the local runner serves its own (local/docs.py)
        redoc_url=None,
    )
    for router in routers:
        app.include_router(router)
    install_error_handlers(app)
    if openapi:
        declare_validation_status(app)
    app.add_middleware(TenantShareMiddleware, limiter=tenant_limiter)  # inside RequestContextMiddleware
    app.add_middleware(RequestContextMiddleware, max_body_bytes=get_settings().max_body_bytes)
    return app


# Net new container objects before a gen-0 collection (CPython's default is 700).
GC_GEN0_THRESHOLD = 50_000


def tune_gc_for_requests() -> None:
    """Keep the cycle collector off the request path (measured in bench/recommend.py).

    - FastAPI, pydantic and boto3 leave ~130k long-lived objects after import; every full
      collection walked them all: ~60 ms on 1 request in 8 at 1,000 candidates. Frozen, they are
      never walked again (they were never garbage).
    - A 1,000-candidate request holds ~20k objects while it runs; with the default threshold they
      were promoted to older generations mid-request and collected there (~7 ms each). Reference
      counting frees them anyway; the higher threshold leaves the collector to true cycles.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, 10, 10)


def lambda_handler(app: FastAPI) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point for ``app``: Mangum without lifespan, under Logger and (where it traces) Tracer.

    Called last in each function module, so it also ends the cold start by tuning the garbage
    collector for the process (see :func:`tune_gc_for_requests`).
    """
    asgi = Mangum(app, lifespan="off")
    register_runtime_hooks()  # SnapStart: reseed and fresh AWS clients in each restored container
    tune_gc_for_requests()  # at the end of module initialisation, once per container

    # Built here when tracing is on, so that SnapStart's snapshot holds the patched SDK.
    @logger.inject_lambda_context(clear_state=True)
    @traced_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return dict(asgi(event, context))

    return cast(Callable[[dict[str, Any], Any], dict[str, Any]], handler)
