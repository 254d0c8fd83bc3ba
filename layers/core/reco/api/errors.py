"""The one place where errors become HTTP responses (the middleware reuses error_payload)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reco.errors import RecoError, TooManyRequests

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


# The Scenarios family (/scenarios…, /recommendation/…) answers errors the way its reference does:
# an error class (``error_name`` and its number ``error_code``) and, in ``error_data.name``, what
# exactly went wrong (SCENARIO_NOT_FOUND, WRONG_OP_USE, …). The other routes keep {"detail", "code"}.
CLASSED_ERROR_PREFIXES = ("/scenarios/", "/scenarios-default/", "/recommendation/")
ERROR_CLASSES: dict[int, tuple[str, int]] = {
    400: ("WrongData", 41),
    401: ("AuthError", 21),
    403: ("ForbiddenError", 31),
    404: ("NotFoundError", 50),
    405: ("MethodNotAllowed", 60),
    409: ("ConflictError", 43),
    413: ("RequestError", 40),
    415: ("RequestError", 40),
    429: ("TooManyRequests", 2),
    500: ("ServerError", 0),
    503: ("ServerUnavailable", 1),
}


# These routes' references answer invalid input with 400 (not 422) and a readable ``detail`` string.
DETAIL_400_PREFIXES = ("/v1/recommendations", "/v1/contexts", "/api/recommend/")
CUSTOMER_PREFIX = "/api/recommend/"
CUSTOMER_UNAUTHENTICATED = "Invalid authentication credentials"


def validation_status(path: str) -> int:
    """The status a request that fails validation gets on ``path``: its reference's 400, else FastAPI's 422."""
    return 400 if path.startswith(CLASSED_ERROR_PREFIXES + DETAIL_400_PREFIXES) else 422


def declare_validation_status(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI document say 400 where a route answers invalid input with 400.

    FastAPI declares 422 on every operation with parameters or a body; clients generated from the
    document (and the schema fuzzer) would otherwise expect a status the route never sends.
    """
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()  # built once and kept by FastAPI: rewriting it twice changes nothing
        for path, operations in document.get("paths", {}).items():
            if validation_status(path) != 400:
                continue
            for operation in operations.values():
                responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
                if "422" in responses:
                    del responses["422"]
                    responses.setdefault("400", {"description": "Invalid request: the message says what to fix."})
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def uses_error_classes(path: str) -> bool:
    return path.startswith(CLASSED_ERROR_PREFIXES)


def internal_error_message(path: str) -> str:
    """The opaque text of a 500 (the customer API's reference words it its own way)."""
    return "Failed to get recommendations" if path.startswith(CUSTOMER_PREFIX) else "Internal Server Error"


def unauthenticated_detail(path: str, reason: str) -> tuple[str, str | None]:
    """``(detail, reason)`` of a 401: the customer API's reference words its 401 one fixed way."""
    return (CUSTOMER_UNAUTHENTICATED, reason) if path.startswith(CUSTOMER_PREFIX) else (reason, None)


def retry_after(error: RecoError) -> str | None:
    """The Retry-After header of an error: the error's own wait (a tenant's window), else its status's."""
    seconds = error.retry_after_seconds if isinstance(error, TooManyRequests) else None
    return str(seconds) if seconds else RETRY_AFTER_SECONDS.get(error.status_code)


def error_payload(detail: Any, code: str, request_id: str | None) -> dict[str, Any]:
    return {"detail": detail, "code": code, "request_id": request_id}


def classed_payload(
    status: int, message: str, name: str, request_id: str | None, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    error_name, error_code = ERROR_CLASSES.get(status, ("RequestError", 40))
    return {
        "error_code": error_code,
        "error_name": error_name,
        "message": message,
        "error_data": {**(data or {}), "name": name},  # the error name wins over a data key "name"
        "request_id": request_id,
    }


def payload_for(path: str, status: int, message: str, code: str, request_id: str | None) -> dict[str, Any]:
    """The body of an error raised outside the app's handlers (the middleware's own checks)."""
    if uses_error_classes(path):
        return classed_payload(status, message, code, request_id)
    return error_payload(message, code, request_id)


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def handle_reco_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RecoError)
    if uses_error_classes(request.url.path):
        body = classed_payload(exc.status_code, exc.message, exc.code, _request_id(request), exc.data)
    else:
        detail, reason = (
            unauthenticated_detail(request.url.path, exc.message) if exc.status_code == 401 else (exc.message, None)
        )
        body = error_payload(detail, exc.code, _request_id(request))
        if reason:
            body["reason"] = reason  # what exactly was wrong with the credentials
        if exc.data:
            body["data"] = exc.data
    wait = retry_after(exc)
    headers = {"Retry-After": wait} if wait else None
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
        malformed_body = payload_for(request.url.path, 400, message, "MALFORMED_JSON", _request_id(request))
        return ErrorResponse(malformed_body, status_code=400)
    if any(e.get("type") == "missing" and tuple(e.get("loc", ())) == ("body",) for e in raw):
        # No body at all where one is required: as malformed as a body that is not JSON.
        message = "request body is empty: send a JSON object"
        return ErrorResponse(payload_for(request.url.path, 400, message, "MALFORMED_JSON", _request_id(request)), 400)
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
    if uses_error_classes(request.url.path):
        return ErrorResponse(_classed_validation(errors, _request_id(request)), status_code=400)
    if validation_status(request.url.path) == 400:
        detail_body = error_payload(f"invalid request: {_summary(errors)}", "VALIDATION_FAILED", _request_id(request))
        detail_body["errors"] = errors
        return ErrorResponse(detail_body, status_code=400)
    body: dict[str, Any] = {"detail": errors, "request_id": _request_id(request)}
    if len(raw) > MAX_VALIDATION_ERRORS:
        body["omitted_errors"] = len(raw) - MAX_VALIDATION_ERRORS
    return ErrorResponse(body, status_code=422)


def _classed_validation(errors: list[Any], request_id: str | None) -> dict[str, Any]:
    """400 WrongData: WRONG_DATA_TYPE for the body, WRONG_PARAMETER for the path and query string."""
    in_body = any(e.get("loc", ("",))[0] == "body" for e in errors)
    name = "WRONG_DATA_TYPE" if in_body else "WRONG_PARAMETER"
    return classed_payload(400, f"invalid request: {_summary(errors)}", name, request_id, {"errors": errors})


def _summary(errors: list[Any]) -> str:
    """``where: what`` for the first five errors (the query string's and the body's alike)."""
    shown = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg')}" for e in errors[:5])
    return shown + (f" (and {len(errors) - 5} more)" if len(errors) > 5 else "")


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
    detail = exc.detail
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 400 and detail == BODY_PARSE_FAILURE:
        # json.loads raised something other than a syntax error: invalid UTF-8, or nesting too deep.
        code, detail = "MALFORMED_JSON", "malformed JSON body: not UTF-8 text, or nested too deeply"
    body = payload_for(request.url.path, exc.status_code, str(detail), code, _request_id(request))
    return ErrorResponse(body, status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RecoError, handle_reco_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
