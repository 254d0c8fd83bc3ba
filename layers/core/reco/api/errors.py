"""The one place where errors become HTTP responses (the middleware reuses error_payload)."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reco.errors import RecoError

RETRY_AFTER_SECONDS = {429: "1", 503: "5"}
MAX_VALIDATION_ERRORS = 50  # a 1 MiB body can hold 100k mistakes; the first few say what to fix
MAX_ECHOED_INPUT = 200  # characters of an offending string value echoed back
BODY_PARSE_FAILURE = "There was an error parsing the body"  # FastAPI's detail when json.loads raised


class ErrorResponse(JSONResponse):
    """JSON that renders whatever a client sent back to it (lone surrogates become \\u escapes)."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


def error_payload(detail: Any, code: str, request_id: str | None) -> dict[str, Any]:
    return {"detail": detail, "code": code, "request_id": request_id}


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def handle_reco_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RecoError)
    body = error_payload(exc.message, exc.code, _request_id(request))
    if exc.data:
        body["data"] = exc.data
    retry_after = RETRY_AFTER_SECONDS.get(exc.status_code)
    headers = {"Retry-After": retry_after} if retry_after else None
    return ErrorResponse(body, status_code=exc.status_code, headers=headers)


def _echoable(value: Any) -> Any:
    """An offending input as it may be echoed: short, JSON-safe, never a whole document."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN / Infinity parse from JSON text but cannot be written back
    if isinstance(value, bytes | bytearray):
        return None
    if isinstance(value, str) and len(value) > MAX_ECHOED_INPUT:
        return value[:MAX_ECHOED_INPUT] + "…"
    return value


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    malformed = [e for e in raw if e.get("type") == "json_invalid"]
    if malformed:
        # Not JSON at all: a 400, as the references say, naming where parsing stopped.
        ctx = malformed[0].get("ctx") or {}
        loc = malformed[0].get("loc", ())
        position = loc[1] if len(loc) > 1 else "?"
        message = f"malformed JSON body at character {position}: {ctx.get('error', 'invalid JSON')}"
        return ErrorResponse(error_payload(message, "MALFORMED_JSON", _request_id(request)), status_code=400)
    errors = []
    for error in raw[:MAX_VALIDATION_ERRORS]:
        error = dict(error)
        if isinstance(error.get("input"), dict | list):
            error.pop("input")  # the location says where it was
        elif "input" in error:
            error["input"] = _echoable(error["input"])
        ctx = error.get("ctx")
        if isinstance(ctx, dict) and isinstance(ctx.get("error"), Exception):
            error.pop("ctx")  # an exception object: the msg already says it
        errors.append(jsonable_encoder(error))
    body: dict[str, Any] = {"detail": errors, "request_id": _request_id(request)}
    if len(raw) > MAX_VALIDATION_ERRORS:
        body["omitted_errors"] = len(raw) - MAX_VALIDATION_ERRORS
    return ErrorResponse(body, status_code=422)


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
    detail = exc.detail
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 400 and detail == BODY_PARSE_FAILURE:
        # json.loads raised something other than a syntax error: invalid UTF-8, or nesting too deep.
        code, detail = "MALFORMED_JSON", "malformed JSON body: not UTF-8 text, or nested too deeply"
    return ErrorResponse(
        error_payload(detail, code, _request_id(request)), status_code=exc.status_code, headers=exc.headers
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RecoError, handle_reco_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
