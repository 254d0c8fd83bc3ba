"""POST /v1/recommend latency and memory, against a plain lower bound, in one run.

Measured in-process (no sockets), so the numbers are the service's own cost:
- ``gateway + app``: the local API Gateway (route match, RS256 JWT verification), the request
  middleware, FastAPI routing, pydantic validation, the mock ranking and JSON encoding;
- ``lambda handler``: the same app through Mangum with an API Gateway payload-2.0 event
  (the authorizer already ran, as in AWS);
- ``lower bound``: ``json.loads`` of the body, the same response built with plain dicts, and
  ``json.dumps`` — what any implementation must at least do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
from collections.abc import Iterator
from typing import Any

from local.aws import local_resource_names, use_fake_credentials
from local.template import function_environment

use_fake_credentials()
os.environ.update(function_environment(local_resource_names()))

from bench.runner import stdout_fd_to  # noqa: E402
from bench.timing import peak_kib, timed  # noqa: E402
from local.composed import gateway_app  # noqa: E402
from local.tokens import issue_token  # noqa: E402
from reco.api.app import tune_gc_for_requests  # noqa: E402

SIZES = (10, 100, 1000)
REPEATS = int(os.environ.get("BENCH_REPEATS", "2000"))


def request_body(n: int) -> bytes:
    items = [
        {"id": f"item-{i:05d}", "attributes": {"price": 10.0 + i, "stock": i % 7, "on_sale": i % 3 == 0}}
        for i in range(n)
    ]
    return json.dumps({"user_id": "u1", "items": items, "model_id": "test_model_item_200"}).encode()


def lower_bound(body: bytes) -> bytes:
    request = json.loads(body)
    items = request["items"]
    n = len(items)
    ranked = [{"id": item["id"], "score": round(1.0 - (i + 1) / (n + 1), 6)} for i, item in enumerate(items)]
    return json.dumps({"rec_id": "rec_x", "items": ranked}).encode()


async def call_asgi(app: Any, body: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/recommend",
        "raw_path": b"/v1/recommend",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 3000),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def lambda_event(body: bytes) -> dict[str, Any]:
    with open(os.path.join(os.path.dirname(__file__), "..", "events", "ranking-recommend.json")) as f:
        event = json.load(f)
    event["body"] = body.decode()
    return event


class Context:
    function_name, memory_limit_in_mb = "RankingFunction", 1024
    invoked_function_arn, aws_request_id = "arn:aws:lambda:us-east-1:123456789012:function:bench", "bench"


@contextlib.contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null (the Lambda handler's log lines are not the report)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        with stdout_fd_to(devnull):
            yield
    finally:
        os.close(devnull)


def main() -> None:
    import ranking_api

    app = gateway_app(throttling=False)
    tune_gc_for_requests()  # as lambda_handler and the local server do
    token = issue_token("bench", ["backend"])
    headers = [(b"authorization", f"Bearer {token}".encode()), (b"content-type", b"application/json")]
    loop = asyncio.new_event_loop()
    rows = []
    for n in SIZES:
        body = request_body(n)
        event = lambda_event(body)
        repeats = max(200, REPEATS // (1 + n // 100))

        def via_gateway(body: bytes = body) -> None:
            assert loop.run_until_complete(call_asgi(app, body, headers)) == 200

        def via_lambda(event: dict[str, Any] = event) -> None:
            assert ranking_api.handler(event, Context())["statusCode"] == 200

        def plain(body: bytes = body) -> None:
            lower_bound(body)

        for name, fn in (("gateway + app", via_gateway), ("lambda handler", via_lambda), ("lower bound", plain)):
            # Logs (INFO, as deployed) and one EMF line per request are written, as in Lambda; to nowhere.
            with stdout_to_devnull():
                samples = timed(fn, repeats)
                peak = peak_kib(fn)
            rows.append((n, name, statistics.median(samples), statistics.quantiles(samples, n=20)[18], peak, repeats))
    print(f"POST /v1/recommend, mock model, in-process; {os.cpu_count()} cores")
    print("| candidates | path | median µs | p95 µs | peak KiB | runs |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for n, name, median, p95, peak, repeats in rows:
        print(f"| {n} | {name} | {median:,.0f} | {p95:,.0f} | {peak:,.0f} | {repeats} |")


if __name__ == "__main__":
    main()
