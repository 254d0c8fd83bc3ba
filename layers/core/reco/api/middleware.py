"""Per-request plumbing as pure ASGI middleware: request id, body checks, metrics, access log.

It is the outermost layer of every app, so it also turns any unexpected exception into an
opaque 500 (details in the log) instead of letting it escape to Mangum or uvicorn.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.metrics import MetricUnit
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reco.api.errors import internal_error_message, payload_for, retry_after
from reco.errors import InternalError, MalformedJson, PayloadTooLarge, RecoError, UnsupportedMediaType
from reco.observability import correlation_id, logger, metrics
from reco.schemas.bounds import TooDeep, check_json_depth

REQUEST_ID_HEADER = b"x-request-id"
# Printable, log- and header-safe; covers UUIDs, KSUIDs and API Gateway ids ("JKJaXmPLvHcESHA=").
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:=+-]{1,128}$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_JSON_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
# A \uD800-\uDFFF escape: only a well-formed pair (high then low) is valid Unicode.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def is_valid_request_id(text: str) -> bool:
    return _VALID_REQUEST_ID.fullmatch(text) is not None


def has_request_id_header(scope: Scope) -> bool:
    header = _header(scope, b"x-request-id")
    return header is not None and _VALID_REQUEST_ID.fullmatch(header.strip()) is not None


def pick_request_id(scope: Scope) -> str:
    """The caller's X-Request-Id (else a ``request_id`` / ``requestId`` query parameter) when
    well-formed, else API Gateway's request id, else a new one."""
    header = _header(scope, b"x-request-id")
    if header is not None and _VALID_REQUEST_ID.fullmatch(header.strip()):
        return header.strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    for name in ("request_id", "requestId"):
        values = query.get(name)
        if values and _VALID_REQUEST_ID.fullmatch(values[-1]):
            return str(values[-1])
    gateway_id = (scope.get("aws.event") or {}).get("requestContext", {}).get("requestId")
    if isinstance(gateway_id, str) and _VALID_REQUEST_ID.fullmatch(gateway_id):
        return str(gateway_id)
    return str(uuid.uuid4())  # a UUID with dashes, as the references show


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _parses_as_json(body: bytes) -> bool:
    """True if ``body`` is a JSON object or array (checked only when another type was declared)."""
    if body.lstrip()[:1] not in (b"{", b"["):
        return False
    try:
        check_json_depth(body, "the body")
        json.loads(body)
    except (ValueError, RecursionError):
        return False
    return True


def has_unpaired_surrogate(body: bytes) -> bool:
    """True if the JSON text escapes a lone UTF-16 surrogate (valid JSON syntax, invalid Unicode)."""
    if not _SURROGATE_ESCAPE.search(body):
        return False  # the common case: one regex scan, no parsing
    try:
        json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except (ValueError, RecursionError):
        return False  # not JSON at all: the app reports that
    return False


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = pick_request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = correlation_id.set(request_id)
        status = {"code": 500, "started": False}

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["started"] = message["status"], True
                # A route may adopt a request id the client sent another way (a query parameter).
                final_id = str(scope.get("state", {}).get("request_id") or request_id)
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER]
                message = {**message, "headers": [*headers, (REQUEST_ID_HEADER, final_id.encode())]}
            await send(message)

        try:
            if scope.get("method") in _BODY_METHODS:
                body = await self._checked_body(scope, receive)
                scope = self._as_json(scope)
                receive = self._replay(body, receive)
            await self.app(scope, receive, send_with_request_id)
        except RecoError as error:
            await self._send_error(send_with_request_id, error, request_id, scope.get("path", ""))
        except Exception:
            logger.exception("unhandled error", extra={"path": scope.get("path"), "method": scope.get("method")})
            if not status["started"]:
                internal = InternalError(internal_error_message(scope.get("path", "")))
                await self._send_error(send_with_request_id, internal, request_id, scope.get("path", ""))
        finally:
            self._record(scope, status["code"], (time.perf_counter() - started) * 1000.0)
            correlation_id.reset(token)

    async def _checked_body(self, scope: Scope, receive: Receive) -> bytes:
        """The whole body, read once here (Lambda hands it over whole anyway), or a typed error."""
        too_large = PayloadTooLarge(
            f"request body exceeds the {self.max_body_bytes}-byte limit; send fewer items per request"
        )
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise too_large
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise too_large
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if body and content_type and not _JSON_TYPE.fullmatch(content_type) and not _parses_as_json(body):
            raise UnsupportedMediaType(
                f"request bodies are JSON: send Content-Type: application/json, not '{content_type}'"
            )
        if has_unpaired_surrogate(body):
            raise MalformedJson("malformed JSON body: a \\u escape names an unpaired UTF-16 surrogate (D800-DFFF)")
        try:
            check_json_depth(body, "the body")
        except TooDeep as error:
            raise MalformedJson(f"malformed JSON body: {error}; flatten it") from None
        return body

    @staticmethod
    def _as_json(scope: Scope) -> Scope:
        """Every body that reached here is read as JSON: sent without a Content-Type, or with another
        one but JSON all the same (``curl -d`` declares a form; the references' examples use it)."""
        content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if _JSON_TYPE.fullmatch(content_type):
            return scope
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-type"]
        return {**scope, "headers": [*headers, (b"content-type", b"application/json")]}

    @staticmethod
    def _replay(body: bytes, receive: Receive) -> Receive:
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    @staticmethod
    async def _send_error(send: Send, error: RecoError, request_id: str, path: str) -> None:
        payload = payload_for(path, error.status_code, error.message, error.code, request_id)
        body = json.dumps(payload).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        wait = retry_after(error)
        if wait:
            headers.append((b"retry-after", wait.encode()))
        await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _record(scope: Scope, status: int, latency_ms: float) -> None:
        route: Any = scope.get("route")
        route_name = f"{scope.get('method')} {getattr(route, 'path', None) or 'unmatched'}"
        logger.info(
            "request",
            extra={
                "method": scope.get("method"),
                "path": scope.get("path"),
                "route": route_name,
                "status": status,
                "latency_ms": round(latency_ms, 3),
            },
        )
        # Flushed per request so that each EMF line carries its own route dimension, in Lambda
        # (one request per invocation) and in the local server (many per process) alike.
        metrics.add_dimension(name="route", value=route_name)
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="ClientErrors", unit=MetricUnit.Count, value=int(400 <= status < 500))
        metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=int(status >= 500))
        metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=latency_ms)
        metrics.flush_metrics()
