"""`make run` over HTTP with its throttles on: a tenant's flood, or a flood without a valid token,
leaves every other tenant's requests served (the issue: 27 of 40 were 429 before)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bench.runner import Runner, bearer, running
from local.composed import gateway_settings
from local.template import parameter_default

Answer = tuple[int, dict[str, str], Any]

BODY = {"user_id": "u1", "item_ids": ["a", "b"], "model_id": "test_model_item_200"}


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    with running(tmp_path_factory.mktemp("throttled"), demo=False, throttling=True) as started:
        yield started


def recommend(runner: Runner, headers: dict[str, str]) -> Answer:
    """(status, headers, body) of one POST /v1/recommend."""
    request = urllib.request.Request(
        f"{runner.base}/v1/recommend",
        data=json.dumps(BODY).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, json.loads(error.read())


def flood_while(
    runner: Runner, size: int, flood_headers: list[dict[str, str]], other: dict[str, str]
) -> tuple[list[Answer], list[Answer]]:
    """``size`` requests from 8 threads, and another tenant's 40 sent one by one while they run."""

    def flood() -> list[Answer]:
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(lambda n: recommend(runner, flood_headers[n % len(flood_headers)]), range(size)))

    with ThreadPoolExecutor(1) as background:
        flooding = background.submit(flood)
        others = [recommend(runner, other) for _ in range(40)]
        return flooding.result(), others


def test_one_tenants_flood_leaves_the_others_served(runner: Runner) -> None:
    flood, others = flood_while(runner, 400, [bearer("tenant-x")], bearer("tenant-y"))
    assert [status for status, _, _ in others] == [200] * 40
    refused = [(headers, body) for status, headers, body in flood if status == 429]
    assert refused, "tenant-x sent 400 requests and was never refused"
    window = parameter_default("TenantBurstLimit") / parameter_default("TenantRateLimit")  # seconds
    assert all(1 <= int(headers["retry-after"]) <= window for headers, _ in refused)
    assert {body["code"] for _, body in refused} == {"TENANT_RATE_LIMITED"}
    assert {status for status, _, _ in flood} == {200, 429}


def test_a_flood_without_a_valid_token_leaves_the_tenants_served(runner: Runner) -> None:
    flood_headers = [{}, {"Authorization": "Bearer not.a.jwt"}, {"Authorization": "Bearer a.b.c"}]
    size = 3 * gateway_settings().throttle_burst  # more than the route could take in the time it runs
    flood, others = flood_while(runner, size, flood_headers, bearer("tenant-z"))
    assert [status for status, _, _ in others] == [200] * 40
    assert {status for status, _, _ in flood} == {401}


def test_the_runner_says_what_it_throttles(runner: Runner) -> None:
    log = runner.log.read_text()
    assert "throttling: burst 500, 250 req/s per route; each tenant 100 requests per 2 s of it" in log
