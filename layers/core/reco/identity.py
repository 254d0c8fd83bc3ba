"""Who is calling: tenant and roles, read from the claims API Gateway's JWT authorizer verified."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reco.errors import Forbidden, Unauthenticated

TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Role(StrEnum):
    ROOT = "root"
    MANAGER = "manager"
    BACKEND = "backend"
    FRONTEND = "frontend"
    # Read-only: personalised lists (GET /v1/recommendations) and nothing else; the reference's
    # ``<api>/read`` scope, here ``reco/read``.
    READ = "read"


# Roles of server-side callers; a token with none of them is a browser's (``frontend``) or a reader's.
SERVER_SIDE_ROLES = frozenset({Role.ROOT, Role.MANAGER, Role.BACKEND})


@dataclass(frozen=True)
class Identity:
    tenant: str
    roles: frozenset[Role]
    subject: str | None = None

    @property
    def server_side(self) -> bool:
        """Whether a server calls (root, manager, backend): it acts for any shopper of its tenant."""
        return bool(self.roles & SERVER_SIDE_ROLES)

    def require(self, allowed: Iterable[Role], action: str) -> None:
        """Raise :class:`Forbidden` unless the caller holds one of ``allowed`` roles."""
        allowed = frozenset(allowed)
        if not self.roles & allowed:
            held = ", ".join(sorted(self.roles)) or "none"
            needed = ", ".join(sorted(allowed))
            raise Forbidden(f"{action} requires one of the roles [{needed}]; the token grants [{held}]")


def parse_list_claim(value: Any) -> list[str]:
    """Read a list-valued claim in any shape it reaches a Lambda function.

    API Gateway HTTP APIs pass every claim as a string: a JSON array becomes ``"[a b]"``.
    The ``scope`` claim is space-separated. Direct invocations may pass a real list.
    """
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    text = str(value).strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
        text = text.strip("[]")
    return [part for part in re.split(r"[\s,]+", text) if part]


def roles_from_claims(claims: Mapping[str, Any], scope_prefix: str = "reco") -> frozenset[Role]:
    """Roles named by the ``roles`` claim, or by ``scope`` entries ``<role>`` or ``<scope_prefix>/<role>``.

    Scopes of other resource servers (``billing/root``) grant nothing: an identity provider may
    issue one token, with one audience, for several APIs.
    """
    known = {r.value for r in Role}
    names = [n for n in parse_list_claim(claims.get("roles")) if n in known]
    for scope in parse_list_claim(claims.get("scope")):
        prefix, _, name = scope.rpartition("/")
        if name in known and prefix in ("", scope_prefix):
            names.append(name)
    return frozenset(Role(n) for n in names)


def bearer_token_payload(authorization: str | None) -> dict[str, Any] | None:
    """The payload of the bearer token API Gateway verified, decoded without checking it again.

    The authorizer hands claims over as strings (a number ``123`` and the text ``"123"`` look alike);
    the payload keeps their JSON types. It is read only to refuse a token, never to grant anything.
    None when there is no readable token (a direct invocation, a sample event).
    """
    if not authorization:
        return None
    token = authorization[7:] if authorization[:7].lower() == "bearer " else authorization
    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


def tenant_from_claims(
    claims: Mapping[str, Any], tenant_claim: str = "tenant", token_payload: Mapping[str, Any] | None = None
) -> str:
    """The caller's tenant: the claim as a non-empty string that follows the tenant id rule, else 401.

    ``token_payload`` (see :func:`bearer_token_payload`), when there is one, must hold the same claim as
    a JSON string: ``null`` or ``123`` reach the function as text that would pass the rule.
    """
    if token_payload is not None:
        _checked_tenant(token_payload.get(tenant_claim), tenant_claim)  # refuses null, a number … saying so
    tenant = _checked_tenant(claims.get(tenant_claim), tenant_claim)
    if token_payload is not None and token_payload.get(tenant_claim) != tenant:
        raise Unauthenticated(f"the token's '{tenant_claim}' claim is not the one its authorizer verified")
    return tenant


def _checked_tenant(tenant: Any, tenant_claim: str) -> str:
    if tenant is None or tenant == "":
        raise Unauthenticated(f"the token has no '{tenant_claim}' claim naming the caller's tenant")
    if not isinstance(tenant, str):
        raise Unauthenticated(f"the token's '{tenant_claim}' claim must be a string, not {_json_type(tenant)}")
    if not TENANT_PATTERN.fullmatch(tenant):
        raise Unauthenticated(
            f"the token's '{tenant_claim}' claim must be 1-64 characters of letters, digits, '.', '_' or '-'"
        )
    return tenant


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "an array"
    return "an object" if isinstance(value, Mapping) else type(value).__name__


def identity_from_claims(
    claims: Mapping[str, Any] | None,
    tenant_claim: str = "tenant",
    scope_prefix: str = "reco",
    token_payload: Mapping[str, Any] | None = None,
) -> Identity:
    """Build the caller's identity, or raise 401 with a message that says what is missing or wrong."""
    if not claims:
        raise Unauthenticated("the request carries no verified token claims")
    tenant = tenant_from_claims(claims, tenant_claim, token_payload)
    subject = claims.get("sub")
    if token_payload is not None and not isinstance(token_payload.get("sub"), str):
        subject = None  # a null or numeric sub passed on as text: no subject to bind a conversation to
    roles = roles_from_claims(claims, scope_prefix)
    return Identity(tenant=tenant, roles=roles, subject=str(subject) if subject else None)
