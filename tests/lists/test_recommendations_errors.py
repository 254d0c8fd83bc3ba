"""GET /v1/recommendations refuses what it cannot serve: tokens, roles, and garbage in every parameter (never a 500)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.lists.store import load_store

Auth = Callable[..., dict[str, str]]
TENANT = "errors"


def test_tokens_and_roles(client: TestClient, auth: Auth) -> None:
    assert client.get("/v1/recommendations").status_code == 401
    assert client.get("/v1/recommendations").json() == {"message": "Unauthorized"}
    for header in ("Bearer nope", "Basic abc", "", "Bearer "):
        assert client.get("/v1/recommendations", headers={"Authorization": header}).status_code == 401, header
    expired = auth(TENANT, "read", ttl_seconds=-120)
    assert client.get("/v1/recommendations", headers=expired).status_code == 401
    for roles in (("reader",), ("admin", "writer"), ("READ",)):
        response = client.get("/v1/recommendations", headers=auth(TENANT, *roles))
        body = response.json()
        assert response.status_code == 403 and body["code"] == "FORBIDDEN", roles
        assert "GET /v1/recommendations requires one of the roles" in body["detail"] and "read" in body["detail"]
        assert body["request_id"] == response.headers["x-request-id"]
    load_store(TENANT)
    for role in ("read", "frontend", "backend", "manager", "root"):
        response = client.get(
            "/v1/recommendations", params={"user_id": "usr_1", "limit": 3}, headers=auth(TENANT, role)
        )
        assert response.status_code == 200 and len(response.json()["data"]) == 3, role
    read = auth(TENANT, "read")
    assert client.put("/v1/contexts/1", json={"name": "x"}, headers=read).status_code == 403
    assert client.get("/v1/contexts", headers=read).status_code == 403
    # Roles of one tenant do not read another's lists: a tenant without a model has none to serve.
    other = client.get("/v1/recommendations", params={"user_id": "usr_1"}, headers=auth("no-model", "read"))
    assert other.status_code == 503 and other.json()["code"] == "DATABASE_NOT_READY"
    assert other.headers["retry-after"] == "5"


GARBAGE = [
    "99999999999999999999999999",
    "-1",
    "0",
    "",
    " ",
    "null",
    "1e3",
    "3.5",
    "é€😀",
    "\u202e\u0000",
    "%",
    "[]",
    '{"a":',
    "x" * 3000,
]
NUMBERS = ("limit", "quantity", "window_days", "candidate_limit", "served_cap")
TEXTS = (
    "user_id",
    "item_id",
    "context_id",
    "starting_after",
    "entity_type",
    "name",
    "description",
    "filter",
    "filters",
    "scope",
    "mode",
    "cursor",
    "request_id",
    "requestId",
    "session_id",
    "sessionId",
    "anonymous_id",
    "anonymousId",
)
ALWAYS_FINE = {"name", "description"}  # free text: anything up to their length is served


def test_garbage_in_any_parameter_is_never_a_500(client: TestClient, auth: Auth) -> None:
    load_store(TENANT)
    headers = auth(TENANT, "backend")
    statuses: dict[int, int] = {}
    for name in (*NUMBERS, *TEXTS):
        for value in GARBAGE:
            extra = {"entity_type": "Item"} if name == "item_id" else {}
            if name in ("cursor", "window_days", "candidate_limit", "served_cap"):
                extra = {"mode": "auto"}
            response = client.get("/v1/recommendations", params={name: value, **extra}, headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code in (200, 400, 404), (name, value[:20], response.text[:300])
            body = response.json()
            assert body["request_id"] == response.headers["x-request-id"], (name, value[:20])
            if response.status_code != 200:
                assert isinstance(body["detail"], str) and body["code"], (name, value[:20], body)
                assert len(response.content) < 20_000  # garbage is not echoed whole
            if name in NUMBERS:  # none of them is an integer in range
                assert response.status_code == 400 and name in body["detail"], (name, value[:20], body)
            if name in ALWAYS_FINE and len(value) <= 128:
                assert response.status_code == 200, (name, value[:20], body)
            if name in ("context_id", "entity_type", "mode", "filter", "filters", "scope", "cursor"):
                assert response.status_code in (400, 404), (name, value[:20])
    assert statuses[400] > statuses.get(200, 0)
    # Headers too.
    for header, value in (
        ("X-Request-Id", "x" * 300),
        ("X-Session-Id", "s" * 65),
        ("X-Anonymous-Id", "a" * 65),
        ("X-SDK", "k" * 65),
        ("X-SDK-Version", "v" * 65),
        ("X-Platform", "p" * 65),
        ("X-Session-Id", ""),
    ):
        response = client.get("/v1/recommendations", headers={**headers, header: value})
        assert response.status_code in (200, 400), (header, response.text[:200])
        if len(value) == 65:
            assert response.status_code == 400 and header.lower() in response.json()["detail"]
    assert client.get("/v1/recommendations", headers={**headers, "X-Request-Id": "x" * 300}).status_code == 200
