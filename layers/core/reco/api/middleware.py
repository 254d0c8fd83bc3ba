"""Per-request plumbing as pure ASGI middleware: request id, body limit, metrics, access log.

It is the outermost layer of every app, so it also turns any unexpected exception into an
opaque 500 (details in the log) instead of letting it escape to Mangum or uvicorn.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reco.observability import correlation_id, logger, metrics

REQUEST_ID_HEADER = b"x-request-id"
# Printable, log- and header-safe; covers UUIDs, KSUIDs and API Gateway ids ("JKJaXmPLvHcESHA=").
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:=+-]{1,128}$")


def pick_request_id(scope: Scope) -> str:
    """The caller's X-Request-Id when well-formed, else API Gateway's request id, else a new one."""
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER:
            candidate: str = value.decode("latin-1").strip()
            if _VALID_REQUEST_ID.fullmatch(candidate):
                return candidate
    gateway_id = (scope.get("aws.event") or {}).get("requestContext", {}).get("requestId")
    if isinstance(gateway_id, str) and _VALID_REQUEST_ID.fullmatch(gateway_id):
        return str(gateway_id)
    return uuid.uuid4().hex


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


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
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER]
                message = {**message, "headers": [*headers, (REQUEST_ID_HEADER, request_id.encode())]}
            await send(message)

        try:
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                await self._send_too_large(send_with_request_id, request_id)
            elif declared is None and scope.get("method") in {"POST", "PUT", "PATCH"}:
                # No declared length (chunked): read it here, within the limit, before the app does.
                body = await self._read_body(receive)
                if body is None:
                    await self._send_too_large(send_with_request_id, request_id)
                else:
                    await self.app(scope, self._replay(body, receive), send_with_request_id)
            else:
                await self.app(scope, receive, send_with_request_id)
        except Exception:
            logger.exception("unhandled error", extra={"path": scope.get("path"), "method": scope.get("method")})
            if not status["started"]:
                await self._send_error(send_with_request_id, 500, "Internal Server Error", "INTERNAL_ERROR", request_id)
        finally:
            self._record(scope, status["code"], (time.perf_counter() - started) * 1000.0)
            correlation_id.reset(token)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it grows past the limit."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

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

    async def _send_too_large(self, send: Send, request_id: str) -> None:
        message = f"request body exceeds the {self.max_body_bytes}-byte limit; send fewer items per request"
        await self._send_error(send, 413, message, "PAYLOAD_TOO_LARGE", request_id)

    @staticmethod
    async def _send_error(send: Send, status: int, detail: str, code: str, request_id: str) -> None:
        body = json.dumps({"detail": detail, "code": code, "request_id": request_id}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
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
