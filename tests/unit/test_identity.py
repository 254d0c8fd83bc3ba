from __future__ import annotations

import pytest

from reco.errors import Forbidden, Unauthenticated
from reco.identity import Role, identity_from_claims, parse_list_claim


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


@pytest.mark.parametrize("tenant", [None, "", "a#b", "a b", "x" * 65, "-leading"])
def test_a_missing_or_unsafe_tenant_is_forbidden_with_the_reason(tenant: str | None) -> None:
    claims = {"roles": "[root]"} if tenant is None else {"tenant": tenant, "roles": "[root]"}
    with pytest.raises(Forbidden, match="'tenant' claim"):
        identity_from_claims(claims)


def test_require_names_the_roles_needed_and_held() -> None:
    identity = identity_from_claims({"tenant": "acme", "roles": "[frontend]"})
    with pytest.raises(Forbidden) as caught:
        identity.require([Role.BACKEND, Role.ROOT], "POST /v1/recommend")
    assert caught.value.message == (
        "POST /v1/recommend requires one of the roles [backend, root]; the token grants [frontend]"
    )
    identity.require([Role.FRONTEND], "GET /x")  # holds it: no error
