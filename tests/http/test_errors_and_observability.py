"""Errors mapped in one place; request ids, JSON logs and EMF metrics on every request."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from reco.api import build_app
from reco.observability import logger
from reco.settings import MIB

Auth = Callable[..., dict[str, str]]
BODY = {"user_id": "u1", "item_ids": ["a"], "model_id": "test_model_item_200"}


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


@pytest.fixture
def logs() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON log lines written during the test (the Powertools formatter, on a private stream)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield lambda: json_lines(stream.getvalue())
    logger.removeHandler(handler)


@pytest.fixture
def failing_app() -> TestClient:
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    return TestClient(build_app(router), raise_server_exceptions=False)


def test_internal_errors_are_opaque_500s_with_details_in_the_log(
    failing_app: TestClient, logs: Callable[[], list[dict[str, Any]]]
) -> None:
    response = failing_app.get("/boom", headers={"X-Request-Id": "req-500"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error", "code": "INTERNAL_ERROR", "request_id": "req-500"}
    logged = [line for line in logs() if line.get("message") == "unhandled error"]
    assert "secret internal detail" in logged[0]["exception"]
    assert logged[0]["correlation_id"] == "req-500"


def test_unknown_route_inside_a_function_is_404(failing_app: TestClient) -> None:
    response = failing_app.get("/nope")
    assert response.status_code == 404
    assert response.json()["detail"] == "no route GET /nope"


def test_body_over_one_mib_is_413(client: TestClient, auth: Auth) -> None:
    big = {**BODY, "item_ids": ["x" * 200] * 1000, "context": {"pad": "y" * MIB}}
    response = client.post("/v1/recommend", json=big, headers=auth())
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert "1048576-byte limit" in response.json()["detail"]


def test_streamed_body_over_one_mib_without_content_length_is_413(client: TestClient, auth: Auth) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"user_id": "u1", "model_id": "test_model_item_200", "item_ids": ["a"], "context": {"pad": "'
        for _ in range(20):
            yield b"z" * 65536
        yield b'"}}'

    headers = {**auth(), "content-type": "application/json"}
    response = client.post("/v1/recommend", content=chunks(), headers=headers)
    assert response.status_code == 413


def test_a_body_just_under_the_limit_is_accepted(client: TestClient, auth: Auth) -> None:
    """About 1 MiB of candidate attributes (the context is capped at 16 KiB on its own)."""
    items = [{"id": f"i{n}", "attributes": {"pad": "y" * 4000}} for n in range(259)]
    body = {"user_id": "u1", "model_id": "test_model_item_200", "items": items}
    content = json.dumps(body)
    assert MIB - 5000 < len(content) <= MIB
    response = client.post("/v1/recommend", content=content, headers={**auth(), "Content-Type": "application/json"})
    assert response.status_code == 200
    assert len(response.json()["items"]) == 259


def test_request_id_is_honoured_and_echoed(
    client: TestClient, auth: Auth, logs: Callable[[], list[dict[str, Any]]]
) -> None:
    response = client.post("/v1/recommend", json=BODY, headers={**auth(), "X-Request-Id": "order-42.retry-1"})
    assert response.headers["x-request-id"] == "order-42.retry-1"
    access = [line for line in logs() if line.get("message") == "request"]
    assert access[-1]["correlation_id"] == "order-42.retry-1"
    assert access[-1]["route"] == "POST /v1/recommend"
    assert access[-1]["status"] == 200


@pytest.mark.parametrize("bad", ["has spaces", "x" * 129, "<script>"])
def test_an_unsafe_request_id_is_replaced(client: TestClient, auth: Auth, bad: str) -> None:
    response = client.post("/v1/recommend", json=BODY, headers={**auth(), "X-Request-Id": bad})
    assert response.headers["x-request-id"] != bad
    assert len(response.headers["x-request-id"]) == 36  # a new UUID


def test_errors_carry_the_request_id(client: TestClient, auth: Auth) -> None:
    response = client.post("/v1/recommend", json={**BODY, "model_id": "nope"}, headers={**auth(), "X-Request-Id": "r1"})
    assert response.json()["request_id"] == "r1"


def test_each_request_emits_emf_metrics_per_route(
    client: TestClient, auth: Auth, capsys: pytest.CaptureFixture[str]
) -> None:
    client.post("/v1/recommend", json={**BODY, "model_id": "test_model_item_400"}, headers=auth())
    emf = [line for line in json_lines(capsys.readouterr().out) if "_aws" in line]
    assert emf, "no EMF line was written"
    last = emf[-1]
    assert last["route"] == "POST /v1/recommend"
    assert last["Requests"] == [1.0]
    assert last["ClientErrors"] == [1.0]
    assert last["ServerErrors"] == [0.0]
    assert last["Latency"][0] > 0
    names = {m["Name"] for m in last["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {"Requests", "ClientErrors", "ServerErrors", "Latency"}


def test_generated_request_ids_are_uuids_with_dashes(client: TestClient, auth: Callable[..., dict[str, str]]) -> None:
    response = client.get("/v1/recommendations", params={"user_id": "u1"}, headers=auth())
    generated = response.headers["x-request-id"]
    assert str(uuid.UUID(generated)) == generated  # 8-4-4-4-12, lower case
