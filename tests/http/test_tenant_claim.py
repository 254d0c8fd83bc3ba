"""The tenant claim must be a non-empty string that follows the tenant id rule; anything else is 401.

API Gateway's HTTP API hands claims to the function as strings, so a token whose tenant is ``null`` or
``123`` reaches it as text that would pass the rule: the function reads the claim's JSON type from the
verified token itself. Both ways a function is reached refuse: through the local gateway (claims as
strings) and invoked with an API Gateway event (claims as the authorizer passed them).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from local.gateway import stringify_claims
from tests.conftest import LambdaContext, load_event
from tests.handlers.test_lambda_events import handler_for
from tests.http.test_gateway import BODY, signed, valid_claims

MISSING = object()

REFUSED = [
    (None, "the token has no 'tenant' claim naming the caller's tenant"),
    (MISSING, "the token has no 'tenant' claim naming the caller's tenant"),
    ("", "the token has no 'tenant' claim naming the caller's tenant"),
    (123, "the token's 'tenant' claim must be a string, not a number"),
    (1.5, "the token's 'tenant' claim must be a string, not a number"),
    (True, "the token's 'tenant' claim must be a string, not a boolean"),
    (["acme"], "the token's 'tenant' claim must be a string, not an array"),
    ({"id": "acme"}, "the token's 'tenant' claim must be a string, not an object"),
    ("a#b", "the token's 'tenant' claim must be 1-64 characters of letters, digits, '.', '_' or '-'"),
]


def claims_with_tenant(tenant: Any) -> dict[str, Any]:
    claims = valid_claims()
    if tenant is MISSING:
        del claims["tenant"]
    else:
        claims["tenant"] = tenant  # valid_claims() drops None values: set it here
    return claims


@pytest.mark.parametrize(("tenant", "reason"), REFUSED)
def test_a_tenant_claim_that_is_not_a_valid_string_is_401_through_the_gateway(
    client: TestClient, tenant: Any, reason: str
) -> None:
    token = signed(claims_with_tenant(tenant))
    response = client.post("/v1/recommend", json=BODY, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert (response.json()["code"], response.json()["detail"]) == ("UNAUTHENTICATED", reason)
    # Read routes as well as write routes: the identity is read the same way for every function.
    listed = client.get("/v1/models", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 401 and listed.json()["detail"] == reason


def test_a_numeric_string_tenant_is_a_tenant(client: TestClient) -> None:
    token = signed(claims_with_tenant("123"))
    assert client.post("/v1/recommend", json=BODY, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def lambda_event(claims: dict[str, Any], authorization: str) -> dict[str, Any]:
    event = load_event("ranking-recommend.json")
    event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    event["headers"]["authorization"] = authorization
    return event


def unsigned(claims: dict[str, Any]) -> str:
    """A token as the function sees it: API Gateway checked the signature before, the function does not."""
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"Bearer eyJhbGciOiJSUzI1NiJ9.{payload}.c2lnbmF0dXJl"


@pytest.mark.parametrize(("tenant", "reason"), [r for r in REFUSED if r[0] is not MISSING])
def test_a_lambda_event_with_such_a_tenant_claim_is_401(
    aws: dict, lambda_context: LambdaContext, tenant: Any, reason: str
) -> None:
    token_claims = {"sub": "s", "tenant": tenant, "roles": ["backend"]}
    # As the HTTP API passes it (every claim a string: 123 becomes "123"), with the token in the header.
    as_strings = lambda_event(stringify_claims(token_claims), unsigned(token_claims))
    response = handler_for(as_strings["routeKey"])(as_strings, lambda_context)
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["detail"] == reason
    # As a direct invocation may pass them (JSON types kept), with no readable token.
    typed = lambda_event(token_claims, "Bearer eyJhbGciOiJSUzI1NiJ9.verified-by-api-gateway.signature")
    response = handler_for(typed["routeKey"])(typed, lambda_context)
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["detail"] == reason


def test_a_token_that_is_not_the_one_the_authorizer_verified_is_401(aws: dict, lambda_context: LambdaContext) -> None:
    claims = {"sub": "s", "tenant": "acme", "roles": "[backend]"}
    event = lambda_event(claims, unsigned({**claims, "tenant": "other"}))
    response = handler_for(event["routeKey"])(event, lambda_context)
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["detail"] == "the token's 'tenant' claim is not the one its authorizer verified"
