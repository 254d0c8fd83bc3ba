"""API Gateway HTTP API, emulated as ASGI middleware in front of the composed app.

What the deployed API does before a Lambda function runs: match a route (else 404), verify the
JWT (401), throttle the route (429), then hand the function a payload-2.0 event whose
``requestContext.authorizer.jwt.claims`` holds the claims as strings.

One difference, on purpose: API Gateway's route throttle counts every request that matches a
route, the ones its authorizer then refuses too, so a flood without a valid token can take the
route's budget from every tenant. Here a refused request takes nothing from it. In AWS that is
the ``EdgeFirewall`` option's job: tokenless requests stop at the edge, floods of forged ones are
limited per client address there (docs/throttling.md).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import jwt
from starlette.types import ASGIApp, Receive, Scope, Send

from local.template import Route
from reco.api.errors import CUSTOMER_PREFIX, CUSTOMER_UNAUTHENTICATED

# Served without a token: how tools and health checks find the local server, and the dev JWKS.
JWKS_PATH = "/.well-known/jwks.json"
PUBLIC_PATHS = frozenset({"/openapi.json", "/docs", JWKS_PATH})
PUBLIC_PREFIXES = ("/docs/",)  # Swagger UI's own files (local/docs.py)


class TokenBucket:
    """API Gateway's throttle: ``burst`` tokens, refilled at ``rate`` per second."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = float(rate), float(burst), clock
        self._tokens, self._last = float(burst), clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


@dataclass
class JwtVerifier:
    """Verifies RS256 tokens like the HTTP API JWT authorizer: signature, iss, aud, exp, nbf.

    A verified token is remembered (bounded, like API Gateway's authorizer cache): parsing it
    again cost ~0.2 ms a request in PyJWT's base64 checks. Its time claims are re-checked on
    every use, so a cached token still expires on time.
    """

    jwks: dict[str, Any]
    issuer: str
    audience: str
    cache_size: int = 1024
    clock: Callable[[], float] = time.time
    _keys: dict[str, Any] = field(init=False)
    _verified: OrderedDict[str, dict[str, Any]] = field(init=False, default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self._keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(self.jwks).keys}

    def verify(self, authorization: str | None) -> dict[str, Any] | None:
        """The verified claims, or None for a missing, malformed, unsigned or invalid token."""
        if not authorization:
            return None
        token = (authorization[7:] if authorization[:7].lower() == "bearer " else authorization).strip()
        claims = self._verified.get(token)
        if claims is not None:
            now = self.clock()
            if claims["exp"] > now and claims.get("nbf", now) <= now:
                return claims
            del self._verified[token]
            return None
        claims = self._decode(token)
        if claims is not None:
            self._verified[token] = claims
            if len(self._verified) > self.cache_size:
                self._verified.popitem(last=False)
        return claims

    def _decode(self, token: str) -> dict[str, Any] | None:
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(header.get("kid", ""))
            if key is None or header.get("alg") != "RS256":
                return None
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
            # NumericDate (RFC 7519): PyJWT also takes "123" for exp and nbf, which a later
            # comparison with a number could not.
            if not all(_is_number(claims[name]) for name in ("exp", "nbf", "iat") if name in claims):
                return None
            return claims
        except jwt.PyJWTError:
            return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def stringify_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as an HTTP API hands them to Lambda: every value a string, arrays as ``[a b]``."""
    out = {}
    for name, value in claims.items():
        if isinstance(value, list):
            out[name] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, dict):
            out[name] = json.dumps(value, separators=(",", ":"))
        else:
            out[name] = str(value)
    return out


def _route_pattern(path: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{[^/]+?\\\+\\\}", r".+", re.escape(path))  # {proxy+}
    regex = re.sub(r"\\\{[^/]+?\\\}", r"[^/]+", regex)
    return re.compile(f"^{regex}$")


class RequestThreads:
    """Runs each request in a worker thread on an event loop of its own, as a container of its own.

    The functions' handlers are ``async def`` and call the stores (boto3) without awaiting: in
    Lambda each container serves one request at a time, so nothing waits behind that call, and no
    thread hop is paid for it. Locally many requests share one process: here each request gets a
    thread, so a blocking call holds up its own request only. The body and the answer cross to the
    server's loop (read whole before, sent whole after: one hop per request); the rest runs in the thread.
    """

    def __init__(self, workers: int = 64) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="request")
        self._loops = threading.local()

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        server_loop = asyncio.get_running_loop()
        # One hop per request: the body is read here first, the answer is sent from here afterwards.
        arrived: list[Any] = []
        while True:
            message = await receive()
            arrived.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        answer: list[Any] = []

        async def on_server(call: Any) -> Any:
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call, server_loop))

        async def worker_receive() -> Any:
            if arrived:
                return arrived.pop(0)
            # Asked again after the body (to watch for a disconnect): send what is answered so far,
            # so the server can finish the response and tell, then wait on the server's loop.
            while answer:
                await on_server(send(answer.pop(0)))
            return await on_server(receive())

        async def worker_send(message: Any) -> None:
            answer.append(message)

        def serve() -> None:
            loop = getattr(self._loops, "loop", None)
            if loop is None:
                loop = self._loops.loop = asyncio.new_event_loop()
            loop.run_until_complete(app(scope, worker_receive, worker_send))

        try:
            await server_loop.run_in_executor(self._pool, serve)
        finally:
            for message in answer:
                await send(message)


@dataclass
class GatewaySettings:
    routes: Iterable[Route]
    verifier: JwtVerifier
    throttle_rate: float
    throttle_burst: int
    throttling: bool = True
    # Requests one function runs at a time; the others wait their turn (0: no limit). In AWS each
    # request has a container of its own; on a 2-core laptop, 16 batch writes at once would leave a
    # read of another function waiting seconds for the interpreter.
    function_concurrency: int = 0
    # Each request in a thread and event loop of its own (see RequestThreads); off: in the server's loop.
    request_threads: bool = True
    cors_origins: tuple[str, ...] = ("*",)
    cors_headers: tuple[str, ...] = ("authorization", "content-type", "x-request-id")
    cors_methods: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    clock: Callable[[], float] = time.monotonic
    body_timeout: float = 10.0  # seconds for a request body to arrive in full


class LocalGateway:
    def __init__(self, app: ASGIApp, settings: GatewaySettings) -> None:
        self.app = app
        self.settings = settings
        self._routes = [(r.method, _route_pattern(r.path), r) for r in settings.routes]
        # DefaultRouteSettings throttle each route separately.
        self._buckets = {
            r: TokenBucket(settings.throttle_rate, settings.throttle_burst, settings.clock) for r in settings.routes
        }
        self._running: dict[str, asyncio.Semaphore] = {}
        self._threads = RequestThreads() if settings.request_threads else None

    def match(self, method: str, path: str) -> Route | None:
        for route_method, pattern, route in self._routes:
            if route_method in (method, "ANY") and pattern.match(path):
                return route
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        origin = headers.get("origin")
        if method == "OPTIONS" and origin and "access-control-request-method" in headers:
            await self._preflight(send, origin)
            return
        if path == JWKS_PATH and method == "GET":
            await self._send_json(send, 200, self.settings.verifier.jwks, origin)
            return
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, self._with_cors(send, origin))
            return
        route = self.match(method, path)
        if route is None:
            await self._reply(send, 404, "Not Found", origin)
            return
        claims = self.settings.verifier.verify(headers.get("authorization"))
        if claims is None:  # before the throttle: a request without a valid token spends no one's budget
            await self._reply(send, 401, "Unauthorized", origin, path)
            return
        if self.settings.throttling and not self._buckets[route].take():
            await self._reply(send, 429, "Too Many Requests", origin)
            return
        try:
            receive = await self._buffered_body(receive)
        except TimeoutError:
            await self._reply(
                send, 408, f"Request Timeout: the body did not arrive within {self.settings.body_timeout:g} s", origin
            )
            return
        scope = {**scope, "aws.event": self._event(scope, route, claims, headers), "aws.context": None}
        if not self.settings.function_concurrency:
            await self._invoke(scope, receive, self._with_cors(send, origin))
            return
        slots = self._running.setdefault(route.function, asyncio.Semaphore(self.settings.function_concurrency))
        async with slots:
            await self._invoke(scope, receive, self._with_cors(send, origin))

    async def _buffered_body(self, receive: Receive) -> Receive:
        """The whole body, read before the function runs (as API Gateway does), within a time limit:
        a client that declares more bytes than it sends must not hold a request open for ever."""
        arrived: list[Any] = []
        async with asyncio.timeout(self.settings.body_timeout):
            while True:
                message = await receive()
                arrived.append(message)
                if message["type"] != "http.request" or not message.get("more_body"):
                    break

        async def replay() -> Any:
            return arrived.pop(0) if arrived else await receive()

        return replay

    async def _invoke(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The function's app, for one request: in a thread of its own (a container's worth of isolation)."""
        if self._threads is None:
            await self.app(scope, receive, send)
        else:
            await self._threads.run(self.app, scope, receive, send)

    @staticmethod
    def _event(scope: Scope, route: Route, claims: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        scopes = claims.get("scope")
        return {
            "version": "2.0",
            "routeKey": f"{route.method} {route.path}",
            "rawPath": scope["path"],
            "rawQueryString": scope.get("query_string", b"").decode("latin-1"),
            "headers": headers,
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "routeKey": f"{route.method} {route.path}",
                "stage": "$default",
                "http": {
                    "method": scope["method"],
                    "path": scope["path"],
                    "protocol": "HTTP/1.1",
                    "sourceIp": (scope.get("client") or ("127.0.0.1",))[0],
                },
                "authorizer": {
                    "jwt": {
                        "claims": stringify_claims(claims),
                        "scopes": scopes.split() if isinstance(scopes, str) else None,
                    }
                },
            },
        }

    def _allowed_origin(self, origin: str | None) -> str | None:
        if origin is None:
            return None
        if "*" in self.settings.cors_origins:
            return "*"
        return origin if origin in self.settings.cors_origins else None

    def _cors_headers(self, origin: str | None) -> list[tuple[bytes, bytes]]:
        allowed = self._allowed_origin(origin)
        if allowed is None:
            return []
        return [(b"access-control-allow-origin", allowed.encode()), (b"access-control-expose-headers", b"x-request-id")]

    def _with_cors(self, send: Send, origin: str | None) -> Send:
        extra = self._cors_headers(origin)
        if not extra:
            return send

        async def wrapped(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return wrapped

    async def _preflight(self, send: Send, origin: str) -> None:
        headers = self._cors_headers(origin)
        if headers:
            headers += [
                (b"access-control-allow-methods", ",".join(self.settings.cors_methods).encode()),
                (b"access-control-allow-headers", ",".join(self.settings.cors_headers).encode()),
                (b"access-control-max-age", b"600"),
            ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _reply(self, send: Send, status: int, message: str, origin: str | None, path: str = "") -> None:
        """API Gateway's own error shape: ``{"message": "..."}``; the customer API's 401 as its reference words it."""
        extra = [(b"www-authenticate", b"Bearer")] if status == 401 else []
        if status == 401 and path.startswith(CUSTOMER_PREFIX):
            await self._send_json(send, status, {"detail": CUSTOMER_UNAUTHENTICATED}, origin, extra)
            return
        await self._send_json(send, status, {"message": message}, origin, extra)

    async def _send_json(
        self, send: Send, status: int, payload: Any, origin: str | None, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        body = json.dumps(payload).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            # API Gateway answers its own errors with a request id too (apigw-requestid).
            (b"x-request-id", str(uuid.uuid4()).encode()),
            *self._cors_headers(origin),
            *(extra or []),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
