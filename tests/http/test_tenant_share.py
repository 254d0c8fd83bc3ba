"""One tenant's flood, or a flood without a valid token, leaves the route to the other tenants.

Through the emulated API Gateway with template.yaml's defaults (route: burst 500, 250/s; each
tenant: 100 requests per 2 s), clocks frozen so every count is exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from local.composed import compose_app, gateway_app, gateway_settings, local_tenant_limiter, template_tenant_share
from local.gateway import LocalGateway
from local.tokens import LOCAL_AUDIENCE, LOCAL_ISSUER, ensure_keys
from reco.tenant_share import TenantShare

BODY = {"user_id": "u1", "item_ids": ["a"], "model_id": "test_model_item_200"}
NOW = 1_000_000.5  # half a second into a 2-second window


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def throttled(aws: dict[str, str], clock: Clock) -> TestClient:
    """make run's gateway and functions, both throttles on, with one frozen clock."""
    settings = gateway_settings(throttling=True)
    settings.clock = clock
    return TestClient(LocalGateway(compose_app(local_tenant_limiter(clock)), settings))


def recommend(client: TestClient, headers: dict[str, str]) -> Any:
    return client.post("/v1/recommend", json=BODY, headers=headers)


def test_the_template_gives_each_tenant_a_fifth_of_the_route() -> None:
    route = gateway_settings(throttling=True)
    assert (route.throttle_burst, route.throttle_rate) == (500, 250.0)
    assert template_tenant_share() == TenantShare(rate=50.0, burst=100)


def test_a_tenants_flood_leaves_the_route_to_the_others(
    throttled: TestClient, clock: Clock, auth: Callable[..., dict[str, str]]
) -> None:
    flooder, other = auth("tenant-x"), auth("tenant-y")
    answers: dict[str, list[Any]] = {"x": [], "y": []}
    for n in range(400):  # 400 from X, with 40 from Y among them
        answers["x"].append(recommend(throttled, flooder))
        if n % 10 == 5:
            answers["y"].append(recommend(throttled, other))
    assert [a.status_code for a in answers["y"]] == [200] * 40
    assert [a.status_code for a in answers["x"]] == [200] * 100 + [429] * 300
    refused = answers["x"][100]
    assert refused.headers["retry-after"] == "2"  # 1.5 s left in X's window, in whole seconds
    assert refused.json()["code"] == "TENANT_RATE_LIMITED"
    assert refused.json()["detail"] == (
        "tenant 'tenant-x' is over its share of POST /v1/recommend (100 requests per 2 s); retry after 2 s"
    )
    assert refused.headers["x-request-id"] == refused.json()["request_id"]
    clock.now += 1.5  # X's window is over: a new share
    assert recommend(throttled, flooder).status_code == 200


def test_a_refusal_of_the_scenarios_family_has_its_error_body(
    throttled: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    headers = auth("tenant-x", "manager")
    answers = [throttled.get("/scenarios/", headers=headers) for _ in range(101)]
    assert {a.status_code for a in answers[:100]} == {200}
    refused = answers[100]
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "2")
    body = refused.json()
    assert (body["error_name"], body["error_code"], body["error_data"]["name"]) == (
        "TooManyRequests",
        2,
        "TENANT_RATE_LIMITED",
    )


def forged_token() -> str:
    """A well-formed token signed by a key the gateway does not know."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    now = int(time.time())
    claims = {"iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "sub": "s", "tenant": "tenant-y", "exp": now + 600}
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": ensure_keys()[1]["keys"][0]["kid"]})


def test_a_flood_without_a_valid_token_takes_nothing_from_the_route(
    throttled: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    flood = [{}, {"Authorization": "Bearer not.a.jwt"}, {"Authorization": f"Bearer {forged_token()}"}]
    burst = gateway_settings(throttling=True).throttle_burst
    answers = [recommend(throttled, flood[n % 3]) for n in range(burst + 60)]  # more than the route's burst
    assert {a.status_code for a in answers} == {401}
    assert answers[-1].json() == {"message": "Unauthorized"}
    other = auth("tenant-y")
    assert [recommend(throttled, other).status_code for _ in range(40)] == [200] * 40


def test_reco_throttling_off_turns_the_tenant_share_off_too(
    aws: dict[str, str], auth: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECO_THROTTLING", "off")
    client, headers = TestClient(gateway_app()), auth("tenant-x")
    assert {recommend(client, headers).status_code for _ in range(120)} == {200}
