from __future__ import annotations

import pytest

from reco.errors import Forbidden, Unauthenticated
from reco.identity import Role, bearer_token_payload, identity_from_claims, parse_list_claim


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        (["root", "manager"], ["root", "manager"]),
        ("[root manager]", ["root", "manager"]),  # how an HTTP API passes a JSON array claim
        ('["root","manager"]', ["root", "manager"]),
        ("backend frontend", ["backend", "frontend"]),  # an OAuth scope string
        ("backend,frontend", ["backend", "frontend"]),
        ("[]", []),
        ("", []),
    ],
)
def test_list_claims_are_read_in_every_shape_they_arrive(value: object, expected: list[str]) -> None:
    assert parse_list_claim(value) == expected


def test_roles_come_from_roles_and_scope_and_unknown_names_are_ignored() -> None:
    identity = identity_from_claims(
        {"tenant": "acme", "roles": "[manager admin]", "scope": "reco/backend openid", "sub": "u1"}
    )
    assert identity.tenant == "acme"
    assert identity.roles == {Role.MANAGER, Role.BACKEND}
    assert identity.subject == "u1"


@pytest.mark.parametrize(
    ("scope", "prefix", "expected"),
    [
        ("reco/root", "reco", {Role.ROOT}),
        ("backend", "reco", {Role.BACKEND}),
        ("billing-api/root", "reco", set()),  # another API's scope grants nothing here
        ("billing-api/root reco/frontend", "reco", {Role.FRONTEND}),
        ("https://api.example.com/reco/manager", "https://api.example.com/reco", {Role.MANAGER}),
        ("reco/root", "https://api.example.com/reco", set()),
    ],
)
def test_scopes_grant_roles_only_under_the_configured_prefix(scope: str, prefix: str, expected: set[Role]) -> None:
    assert identity_from_claims({"tenant": "acme", "scope": scope}, scope_prefix=prefix).roles == expected


def test_the_roles_claim_takes_exact_role_names_only() -> None:
    assert identity_from_claims({"tenant": "acme", "roles": "[other/root reco/root]"}).roles == set()


def test_the_tenant_claim_name_is_configurable() -> None:
    identity = identity_from_claims({"custom:org": "org-7", "roles": "[root]"}, tenant_claim="custom:org")
    assert identity.tenant == "org-7"


def test_missing_claims_are_unauthenticated() -> None:
    with pytest.raises(Unauthenticated):
        identity_from_claims(None)


@pytest.mark.parametrize("tenant", [None, "", "a#b", "a b", "x" * 65, "-leading", 123, True, ["acme"]])
def test_a_missing_or_unsafe_tenant_is_unauthenticated_with_the_reason(tenant: object) -> None:
    claims = {"roles": "[root]"} if tenant is None else {"tenant": tenant, "roles": "[root]"}
    with pytest.raises(Unauthenticated, match="'tenant' claim"):
        identity_from_claims(claims)


@pytest.mark.parametrize(
    ("passed", "typed", "message"),
    [
        ("None", None, "the token has no 'tenant' claim naming the caller's tenant"),
        ("123", 123, "the token's 'tenant' claim must be a string, not a number"),
        ("acme", "other", "the token's 'tenant' claim is not the one its authorizer verified"),
    ],
)
def test_the_token_payload_refuses_what_string_claims_hide(passed: str, typed: object, message: str) -> None:
    # API Gateway passes null and 123 on as text; the verified token keeps their JSON types.
    with pytest.raises(Unauthenticated) as caught:
        identity_from_claims({"tenant": passed, "roles": "[root]"}, token_payload={"tenant": typed})
    assert caught.value.message == message


def test_a_token_payload_never_grants_a_tenant() -> None:
    identity = identity_from_claims({"tenant": "acme"}, token_payload={"tenant": "acme", "roles": ["root"]})
    assert (identity.tenant, identity.roles) == ("acme", frozenset())  # roles still come from the claims


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        (None, None),
        ("Bearer not-a-token", None),
        ("Bearer a.!!!.c", None),
        ("Bearer eyJhbGciOiJSUzI1NiJ9.WzFd.c2ln", None),  # the payload is an array, not claims
        ("Bearer eyJhbGciOiJSUzI1NiJ9.eyJ0ZW5hbnQiOjEyM30.c2ln", {"tenant": 123}),
        ("eyJhbGciOiJSUzI1NiJ9.eyJ0ZW5hbnQiOjEyM30.c2ln", {"tenant": 123}),  # API Gateway takes it bare too
    ],
)
def test_the_bearer_token_payload_is_read_or_none(authorization: str | None, expected: object) -> None:
    assert bearer_token_payload(authorization) == expected


def test_require_names_the_roles_needed_and_held() -> None:
    identity = identity_from_claims({"tenant": "acme", "roles": "[frontend]"})
    with pytest.raises(Forbidden) as caught:
        identity.require([Role.BACKEND, Role.ROOT], "POST /v1/recommend")
    assert caught.value.message == (
        "POST /v1/recommend requires one of the roles [backend, root]; the token grants [frontend]"
    )
    identity.require([Role.FRONTEND], "GET /x")  # holds it: no error


def test_a_sub_that_is_not_a_string_in_the_token_is_no_subject() -> None:
    claims = {"tenant": "acme", "sub": "123", "roles": "[frontend]"}
    assert identity_from_claims(claims, token_payload={"tenant": "acme", "sub": 123}).subject is None
    assert identity_from_claims(claims, token_payload={"tenant": "acme", "sub": "123"}).subject == "123"
    assert identity_from_claims(claims).subject == "123"  # no token to read: the claims as passed


def test_the_references_resource_server_read_scope_grants_read_when_it_is_the_prefix() -> None:
    claims = {"tenant": "acme", "scope": "neuronsearchlab-api/read openid"}
    reader = identity_from_claims(claims, "tenant", "neuronsearchlab-api")
    assert reader.roles == frozenset({Role.READ})
    assert identity_from_claims(claims, "tenant", "reco").roles == frozenset()
