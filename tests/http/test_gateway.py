"""The local runner behaves like API Gateway: 404, 401, 403, 429, CORS, claims as strings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient

from local.composed import gateway_settings
from local.gateway import LocalGateway, TokenBucket, stringify_claims
from local.template import Route
from local.tokens import LOCAL_AUDIENCE, LOCAL_ISSUER, ensure_keys

BODY = {"user_id": "u1", "item_ids": ["a"], "model_id": "test_model_item_200"}
UNAUTHORIZED = {"message": "Unauthorized"}


def call(client: TestClient, authorization: str | None) -> Any:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return client.post("/v1/recommend", json=BODY, headers=headers)


def signed(claims: dict[str, Any], **header: Any) -> str:
    private_pem, jwks = ensure_keys()
    return jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": jwks["keys"][0]["kid"], **header})


def valid_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "sub": "s",
        "tenant": "acme",
        "roles": ["backend"],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def test_a_valid_token_passes(client: TestClient) -> None:
    assert call(client, f"Bearer {signed(valid_claims())}").status_code == 200


def test_no_token_is_401_as_api_gateway_answers(client: TestClient) -> None:
    response = call(client, None)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert len(response.headers["x-request-id"]) == 36  # a UUID


def test_the_dev_jwks_is_public_and_verifies_issued_tokens(client: TestClient) -> None:
    jwks = client.get("/.well-known/jwks.json").json()
    key = jwt.PyJWKSet.from_dict(jwks).keys[0]
    token = signed(valid_claims())
    assert jwt.get_unverified_header(token)["kid"] == key.key_id
    assert jwt.decode(token, key.key, algorithms=["RS256"], audience=LOCAL_AUDIENCE)["tenant"] == "acme"


def test_another_apis_scope_grants_no_role(client: TestClient) -> None:
    response = call(client, f"Bearer {signed(valid_claims(roles=None, scope='billing-api/root'))}")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) - 10},
        {"aud": "someone-else"},
        {"iss": "https://evil.example/issuer"},
        {"nbf": int(time.time()) + 3600},
        {"exp": None},
    ],
    ids=["expired", "wrong-audience", "wrong-issuer", "not-yet-valid", "no-exp"],
)
def test_invalid_claims_are_401(client: TestClient, changes: dict[str, Any]) -> None:
    response = call(client, f"Bearer {signed(valid_claims(**changes))}")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_alg_none_is_401(client: TestClient) -> None:
    unsigned = jwt.encode(valid_claims(), key=None, algorithm="none")
    assert call(client, f"Bearer {unsigned}").status_code == 401


def test_a_token_signed_by_another_key_is_401(client: TestClient) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    forged = jwt.encode(valid_claims(), pem, algorithm="RS256", headers={"kid": ensure_keys()[1]["keys"][0]["kid"]})
    assert call(client, f"Bearer {forged}").status_code == 401


def test_an_hs256_token_using_the_public_key_as_secret_is_401(client: TestClient) -> None:
    token = jwt.encode(
        valid_claims(),
        "a-shared-secret-that-is-long-enough-for-hs256",
        algorithm="HS256",
        headers={"kid": ensure_keys()[1]["keys"][0]["kid"]},
    )
    assert call(client, f"Bearer {token}").status_code == 401


@pytest.mark.parametrize("value", ["Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "Bearer " + "a" * 5000])
def test_garbage_authorization_is_401(client: TestClient, value: str) -> None:
    assert call(client, value).status_code == 401


def test_a_raw_token_without_bearer_prefix_is_accepted_like_api_gateway(client: TestClient) -> None:
    assert call(client, signed(valid_claims())).status_code == 200


@pytest.mark.parametrize("roles", [["frontend"], [], ["admin"]])
def test_a_role_that_may_not_rank_is_403_with_a_clear_message(client: TestClient, roles: list[str]) -> None:
    response = call(client, f"Bearer {signed(valid_claims(roles=roles))}")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("POST /v1/recommend requires one of the roles [backend, manager, root]")


@pytest.mark.parametrize("roles", [["root"], ["manager"], ["backend"], ["frontend", "backend"]])
def test_roles_allowed_to_rank(client: TestClient, roles: list[str]) -> None:
    assert call(client, f"Bearer {signed(valid_claims(roles=roles))}").status_code == 200


def test_roles_may_come_from_the_scope_claim(client: TestClient) -> None:
    claims = valid_claims(roles=None, scope="openid reco/backend")
    assert call(client, f"Bearer {signed(claims)}").status_code == 200


def test_a_token_without_tenant_is_401(client: TestClient) -> None:
    response = call(client, f"Bearer {signed(valid_claims(tenant=None))}")
    assert response.status_code == 401
    assert "'tenant' claim" in response.json()["detail"]


def test_unknown_routes_are_404_before_auth_as_api_gateway_does(client: TestClient) -> None:
    assert client.get("/v1/nothing-here").json() == {"message": "Not Found"}
    assert client.get("/v1/recommend").status_code == 404  # method is part of the route


def test_openapi_is_public(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert "/v1/recommend" in response.json()["paths"]


def test_cors_preflight_and_exposed_request_id(client: TestClient, auth: Callable[..., dict[str, str]]) -> None:
    preflight = client.options(
        "/v1/recommend", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    response = client.post("/v1/recommend", json=BODY, headers={**auth(), "Origin": "https://shop.example"})
    assert response.headers["access-control-expose-headers"] == "x-request-id"


def test_token_bucket_allows_burst_then_refills_at_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.5  # one token at 2/s
    assert [bucket.take(), bucket.take()] == [True, False]
    now[0] += 100
    assert sum(bucket.take() for _ in range(10)) == 3  # never more than the burst


def test_burst_exceeded_is_429_with_the_template_defaults(aws: dict, auth: Callable[..., dict[str, str]]) -> None:
    from local.composed import compose_app

    settings = gateway_settings(throttling=True)
    assert (settings.throttle_burst, settings.throttle_rate) == (500, 250.0)  # template.yaml's defaults
    frozen = [0.0]
    settings.clock = lambda: frozen[0]
    client = TestClient(LocalGateway(compose_app(), settings))  # the route alone: no tenant share
    statuses = [client.post("/v1/recommend", json=BODY, headers=auth()).status_code for _ in range(501)]
    assert statuses[:500] == [200] * 500
    assert statuses[500] == 429
    assert client.post("/v1/recommend", json=BODY, headers=auth()).json() == {"message": "Too Many Requests"}
    frozen[0] += 1.0  # a second later, 250 more tokens
    assert client.post("/v1/recommend", json=BODY, headers=auth()).status_code == 200


def test_claims_reach_the_function_as_api_gateway_passes_them() -> None:
    assert stringify_claims({"roles": ["root", "manager"], "exp": 5, "ok": True, "tenant": "acme"}) == {
        "roles": "[root manager]",
        "exp": "5",
        "ok": "true",
        "tenant": "acme",
    }
    seen: dict[str, Any] = {}
    router = APIRouter()

    @router.get("/probe")
    async def probe(request: Request) -> dict[str, str]:
        seen.update(request.scope["aws.event"])
        return {}

    app = FastAPI()
    app.include_router(router)
    settings = gateway_settings(throttling=False)
    settings.routes = [Route("GET", "/probe", "Probe")]
    client = TestClient(LocalGateway(app, settings))
    assert client.get("/probe", headers={"Authorization": f"Bearer {signed(valid_claims())}"}).status_code == 200
    claims = seen["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["roles"] == "[backend]"
    assert claims["tenant"] == "acme"
    assert seen["routeKey"] == "GET /probe"


def test_a_cached_token_still_expires_on_time() -> None:
    now = [time.time()]
    verifier = gateway_settings().verifier
    verifier.clock = lambda: now[0]
    # nbf from the same instant as the fake clock: valid_claims() reading time.time() again could
    # land in the next second, a token not yet valid at now[0].
    token = signed(valid_claims(exp=int(now[0]) + 60, nbf=int(now[0])))
    assert verifier.verify(f"Bearer {token}") is not None
    assert verifier.verify(f"Bearer {token}") is not None  # from the cache
    now[0] += 61
    assert verifier.verify(f"Bearer {token}") is None


def test_the_token_cache_is_bounded() -> None:
    verifier = gateway_settings().verifier
    verifier.cache_size = 3
    tokens = [signed(valid_claims(sub=f"user-{n}")) for n in range(5)]
    assert all(verifier.verify(t) for t in tokens)
    assert len(verifier._verified) == 3


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_time_claims_that_are_not_numbers_are_401_on_every_use(client: TestClient, claim: str) -> None:
    now = int(time.time())
    token = signed(valid_claims(**{claim: str(now + 600 if claim == "exp" else now - 10)}))
    answers = [call(client, f"Bearer {token}") for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert all(a.json() == UNAUTHORIZED for a in answers)


def test_a_body_shorter_than_its_content_length_times_out_with_408(aws: dict) -> None:
    gateway = LocalGateway(stand_in_app(), gateway_settings(throttling=False))
    gateway.settings.body_timeout = 0.2
    token = signed(valid_claims())
    sent: list[dict[str, Any]] = []
    chunks = [{"type": "http.request", "body": b'{"user_id"', "more_body": True}]

    async def receive() -> dict[str, Any]:
        if chunks:
            return chunks.pop(0)
        await asyncio.sleep(3600)  # the other 90 bytes never come
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/recommend",
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {token}".encode()), (b"content-length", b"100")],
    }
    started = time.monotonic()
    loop = asyncio.new_event_loop()  # not asyncio.run: it would leave the thread without a current loop
    try:
        loop.run_until_complete(gateway(scope, receive, send))
    finally:
        loop.close()
    assert time.monotonic() - started < 2
    assert sent[0]["status"] == 408
    assert b"did not arrive within 0.2 s" in sent[1]["body"]


def stand_in_app() -> FastAPI:  # the gateway must answer before calling it
    app = FastAPI()

    @app.post("/v1/recommend")
    async def never_called(request: Request) -> None:
        raise AssertionError("the function must not run without its body")

    return app
