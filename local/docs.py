"""The API's documentation as the local runner serves it: ``/docs`` and the bearer token in ``/openapi.json``.

FastAPI's own ``/docs`` loads Swagger UI from a CDN, so it is blank offline: here its files come
from the ``swagger-ui-bundle-v2`` package (requirements-dev.txt), under ``/docs/assets/``. Only the
local runner serves docs; the deployed functions have no ``/docs`` route.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse
from swagger_ui_bundle import swagger_ui_path

from local.template import Route

DOCS_PATH = "/docs"
DOCS_ASSETS_PATH = "/docs/assets"
# Keep the token entered under "Authorize" across reloads of the page (a local, dev-only page).
SWAGGER_UI_PARAMETERS = {"persistAuthorization": True}

BEARER_SCHEME = "bearerAuth"
BEARER_SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": (
        "A JWT from the identity provider, verified by API Gateway's JWT authorizer before any function "
        "runs (issuer, audience, signature, expiry). Locally, `make token` prints one."
    ),
}
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


def add_offline_docs(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    """Serve Swagger UI for ``app``'s OpenAPI document at ``/docs``, with every asset local."""
    app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API docs",
            swagger_js_url=f"{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS_PATH}/favicon-32x32.png",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )


def _route_key(method: str, path: str) -> tuple[str, str]:
    """A route as ``(METHOD, path)`` with its parameter names blanked: the template and FastAPI may name them apart."""
    return method.upper(), re.sub(r"\{[^/]+\}", "{}", path)


def declare_bearer_token(app: FastAPI, token_routes: Iterable[Route]) -> None:
    """Declare the bearer token in ``app``'s OpenAPI document, on each operation of ``token_routes``.

    The routes that need a token are the gateway's (the template's JWT authorizer), not the app's:
    the functions read verified claims and never see a route the gateway let through without one.
    """
    needs_token = {_route_key(route.method, route.path) for route in token_routes}
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()  # FastAPI builds it once and keeps it: mark it on the first call only
        schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
        if BEARER_SCHEME not in schemes:
            schemes[BEARER_SCHEME] = BEARER_SECURITY_SCHEME
            for path, operations in document.get("paths", {}).items():
                for method, operation in operations.items():
                    if method in HTTP_METHODS and _route_key(method, path) in needs_token:
                        operation["security"] = [{BEARER_SCHEME: []}]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


# What answers before a route runs, so that every operation the gateway and the middleware guard can
# answer it: the authorizer (401), the route's role check (403), the gateway's throttle and the
# tenant's share (429), and for a body the middleware (reco.api.middleware: not JSON, too large).
TOKEN_RESPONSES: dict[str, dict[str, Any]] = {
    "401": {"description": "Missing, expired or invalid token (the gateway's JWT authorizer)"},
    "403": {"description": "The token's roles may not do this"},
    "429": {"description": "Too many requests (the route's throttle or the tenant's share): Retry-After says when"},
}
BODY_RESPONSES: dict[str, dict[str, Any]] = {
    "400": {"description": "Malformed JSON body (not JSON, not UTF-8, or nested more than 32 levels)"},
    "413": {"description": "The body exceeds the size limit"},
    "415": {"description": "A body that is not JSON, sent with another Content-Type"},
}


def declare_shared_responses(app: FastAPI, token_routes: Iterable[Route]) -> None:
    """Declare, on each operation of ``app``'s OpenAPI document, the answers that come before its route:
    :data:`TOKEN_RESPONSES` on the operations of ``token_routes``, :data:`BODY_RESPONSES` on those
    that take a body. A status the route declares itself keeps its own description."""
    needs_token = {_route_key(route.method, route.path) for route in token_routes}
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()  # built once and kept by FastAPI: adding twice changes nothing
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                if method not in HTTP_METHODS:
                    continue
                responses = operation.setdefault("responses", {})
                shared = {
                    **(TOKEN_RESPONSES if _route_key(method, path) in needs_token else {}),
                    **(BODY_RESPONSES if "requestBody" in operation else {}),
                }
                for status, response in shared.items():
                    responses.setdefault(status, dict(response))
        return document

    app.openapi = openapi  # type: ignore[method-assign]
