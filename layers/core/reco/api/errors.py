"""The one place where errors become HTTP responses."""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reco.errors import RecoError

RETRY_AFTER_SECONDS = {429: "1", 503: "5"}


def error_body(request: Request, detail: Any, code: str) -> dict[str, Any]:
    return {"detail": detail, "code": code, "request_id": getattr(request.state, "request_id", None)}


async def handle_reco_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RecoError)
    body = error_body(request, exc.message, exc.code)
    if exc.data:
        body["data"] = exc.data
    headers = {"Retry-After": RETRY_AFTER_SECONDS[exc.status_code]} if exc.status_code in RETRY_AFTER_SECONDS else None
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = jsonable_encoder(exc.errors())
    malformed = [e for e in errors if e.get("type") == "json_invalid"]
    if malformed:
        # Not JSON at all: a 400, as the references say, naming where parsing stopped.
        ctx = malformed[0].get("ctx") or {}
        where = malformed[0].get("loc", [None, None])
        position = where[1] if len(where) > 1 else "?"
        message = f"malformed JSON body at character {position}: {ctx.get('error', 'invalid JSON')}"
        return JSONResponse(error_body(request, message, "MALFORMED_JSON"), status_code=400)
    for error in errors:
        value = error.get("input")
        # Echoing a whole (possibly 1 MiB) input back is noise; the location says where it was.
        if isinstance(value, dict | list):
            error.pop("input")
        # NaN and Infinity parse from JSON text but cannot be written back as JSON.
        elif isinstance(value, float) and not math.isfinite(value):
            error["input"] = str(value)
        ctx = error.get("ctx")
        if isinstance(ctx, dict) and ctx.get("error") == {}:
            ctx.pop("error")  # an exception object that does not serialise: the msg already says it
            if not ctx:
                error.pop("ctx")
    return JSONResponse({"detail": errors, "request_id": getattr(request.state, "request_id", None)}, status_code=422)


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
    detail = exc.detail
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no route {request.method} {request.url.path}"
    return JSONResponse(error_body(request, detail, code), status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RecoError, handle_reco_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
