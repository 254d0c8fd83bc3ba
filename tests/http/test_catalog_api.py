"""/v1/items and /v1/users through the gateway and the composed app."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

Auth = Callable[..., dict[str, str]]
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SHOES = {"category": "shoes", "price": 49.99, "stock": 5, "on_sale": True, "tags": ["running", "trail"]}
NOT_A_VALUE = "attribute values must be a string, a number, a boolean or an array of strings"
ROUTES = [
    ("PUT", "/v1/items", {"items": [{"id": "a"}]}),
    ("GET", "/v1/items", None),
    ("GET", "/v1/items/a", None),
    ("DELETE", "/v1/items/a", None),
    ("PUT", "/v1/users", {"users": [{"id": "u"}]}),
    ("GET", "/v1/users/u", None),
]


def put_items(client: TestClient, auth: Auth, items: list[Any], tenant: str = "acme") -> Any:
    return client.put("/v1/items", json={"items": items}, headers=auth(tenant, "backend"))


def test_put_then_get_an_item(client: TestClient, auth: Auth) -> None:
    response = put_items(client, auth, [{"id": "EC5792", "properties": SHOES}, {"id": "FC7890"}])
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "rejected": []}

    got = client.get("/v1/items/EC5792", headers=auth("acme", "backend"))
    assert got.status_code == 200
    body = got.json()
    assert body == {"id": "EC5792", "properties": SHOES, "updated_at": body["updated_at"]}
    assert STAMP.match(body["updated_at"])
    assert isinstance(body["properties"]["stock"], int) and isinstance(body["properties"]["on_sale"], bool)
    assert client.get("/v1/items/FC7890", headers=auth("acme", "backend")).json()["properties"] == {}


@pytest.mark.parametrize("role", ["backend", "manager", "root"])
def test_server_side_roles_may_use_the_catalog(client: TestClient, auth: Auth, role: str) -> None:
    assert client.put("/v1/items", json={"items": [{"id": "a"}]}, headers=auth("acme", role)).status_code == 200
    assert client.get("/v1/items/a", headers=auth("acme", role)).status_code == 200


def test_a_put_replaces_the_properties_as_a_whole(client: TestClient, auth: Auth) -> None:
    put_items(client, auth, [{"id": "a", "properties": {"colour": "red", "size": 42}}])
    put_items(client, auth, [{"id": "a", "properties": {"size": 43}}])
    assert client.get("/v1/items/a", headers=auth()).json()["properties"] == {"size": 43}


def test_bad_rows_are_rejected_one_by_one_and_the_good_rows_are_stored(client: TestClient, auth: Auth) -> None:
    items = [
        {"id": "good", "properties": {"price": 1}},
        {"id": ""},
        "not a row",
        {"id": "colour", "colour": "red"},
        {"id": "huge", "properties": {"n": 1e300}},
        {"id": "nested", "properties": {"dims": {"w": 1}}},
        {"id": "good2"},
    ]
    response = put_items(client, auth, items)
    assert response.status_code == 200
    assert response.json() == {
        "accepted": 2,
        "rejected": [
            {"index": 1, "error": "id: String should have at least 1 character"},
            {"index": 2, "error": "row: each row must be a JSON object"},
            {"index": 3, "error": "colour: unknown field; a row has id, properties"},
            {"index": 4, "error": "properties.n: numbers must be 0 or between 1e-130 and 1e126 in magnitude"},
            {
                "index": 5,
                "error": f"properties.dims: {NOT_A_VALUE}",
            },
        ],
    }
    listed = client.get("/v1/items", headers=auth()).json()
    assert [item["id"] for item in listed["items"]] == ["good", "good2"]


def test_a_repeated_id_keeps_its_last_row_and_reports_the_earlier_one(client: TestClient, auth: Auth) -> None:
    response = put_items(client, auth, [{"id": "a", "properties": {"v": 1}}, {"id": "a", "properties": {"v": 2}}])
    assert response.json() == {
        "accepted": 1,
        "rejected": [{"index": 0, "error": "superseded by row 1: the same id appears later in this batch"}],
    }
    assert client.get("/v1/items/a", headers=auth()).json()["properties"] == {"v": 2}


def test_a_batch_over_1000_rows_is_422_naming_the_limit(client: TestClient, auth: Auth) -> None:
    response = put_items(client, auth, [{"id": f"i{n}"} for n in range(1001)])
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "items"] and "at most 1000" in error["msg"]
    assert client.get("/v1/items", headers=auth()).json()["items"] == []  # nothing half-written


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ({"items": []}, ["body", "items"], "at least 1"),
        ({}, ["body", "items"], "Field required"),
        ({"items": [{"id": "a"}], "tenant": "other"}, ["body", "tenant"], "Extra inputs"),
        ({"items": {"id": "a"}}, ["body", "items"], "valid list"),
    ],
)
def test_a_malformed_batch_is_422(client: TestClient, auth: Auth, body: Any, loc: list[str], message: str) -> None:
    response = client.put("/v1/items", json=body, headers=auth())
    assert response.status_code == 422
    assert any(e["loc"] == loc and message in e["msg"] for e in response.json()["detail"]), response.json()


def test_a_body_over_1_mib_is_413(client: TestClient, auth: Auth) -> None:
    items = [{"id": f"i{n}", "properties": {"text": "x" * 4000}} for n in range(300)]
    response = client.put("/v1/items", content=json.dumps({"items": items}), headers=auth())
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_malformed_json_is_400(client: TestClient, auth: Auth) -> None:
    headers = {**auth(), "content-type": "application/json"}
    response = client.put("/v1/items", content=b'{"items": [', headers=headers)
    assert response.status_code == 400 and response.json()["code"] == "MALFORMED_JSON"


def test_listing_45_items_returns_each_exactly_once(client: TestClient, auth: Auth) -> None:
    put_items(client, auth, [{"id": f"item-{n:02d}", "properties": {"n": n}} for n in range(45)])
    seen: list[str] = []
    pages: list[int] = []
    cursor: str | None = None
    while True:
        params = {"limit": 20, **({"cursor": cursor} if cursor else {})}
        body = client.get("/v1/items", params=params, headers=auth()).json()
        seen += [item["id"] for item in body["items"]]
        pages.append(len(body["items"]))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == [20, 20, 5]
    assert seen == [f"item-{n:02d}" for n in range(45)]


def test_a_full_last_page_has_no_next_cursor(client: TestClient, auth: Auth) -> None:
    put_items(client, auth, [{"id": f"i{n}"} for n in range(20)])
    body = client.get("/v1/items", params={"limit": 20}, headers=auth()).json()
    assert len(body["items"]) == 20 and body["next_cursor"] is None


# Not base64; not JSON; a JSON object, not a key; a key with an empty sort key; a lone surrogate.
@pytest.mark.parametrize("cursor", ["garbage", "!!!", "eyJ4IjogMX0", "WyJhY21lI2l0ZW0iLCIiXQ", "WyJhIiwiXHVkODAwIl0"])
def test_a_malformed_cursor_is_400(client: TestClient, auth: Auth, cursor: str) -> None:
    response = client.get("/v1/items", params={"cursor": cursor}, headers=auth())
    assert response.status_code == 400
    assert response.json()["code"] == "MALFORMED_CURSOR"
    assert response.json()["detail"] == "cursor is malformed: pass the next_cursor of the previous page unchanged"


def test_an_overlong_cursor_is_422(client: TestClient, auth: Auth) -> None:
    response = client.get("/v1/items", params={"cursor": "x" * 5000}, headers=auth())
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_a_cursor_of_another_tenant_is_400(client: TestClient, auth: Auth) -> None:
    put_items(client, auth, [{"id": f"i{n}"} for n in range(3)], tenant="tenant-a")
    cursor = client.get("/v1/items", params={"limit": 1}, headers=auth("tenant-a")).json()["next_cursor"]
    response = client.get("/v1/items", params={"cursor": cursor}, headers=auth("tenant-b"))
    assert response.status_code == 400
    assert (
        response.json()["detail"] == "cursor was issued for another list: pass the next_cursor that this list returned"
    )


@pytest.mark.parametrize("limit", [0, 101, "ten"])
def test_limit_is_1_to_100(client: TestClient, auth: Auth, limit: Any) -> None:
    response = client.get("/v1/items", params={"limit": limit}, headers=auth())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_delete_then_get_is_404(client: TestClient, auth: Auth) -> None:
    put_items(client, auth, [{"id": "a"}, {"id": "b"}])
    deleted = client.delete("/v1/items/a", headers=auth())
    assert deleted.status_code == 204 and deleted.content == b""
    gone = client.get("/v1/items/a", headers=auth())
    assert gone.status_code == 404
    assert gone.json()["detail"] == "item not found: 'a'" and gone.json()["code"] == "ITEM_NOT_FOUND"
    again = client.delete("/v1/items/a", headers=auth())
    assert again.status_code == 404 and again.json()["detail"] == "item not found: 'a'"
    assert client.get("/v1/items/b", headers=auth()).status_code == 200


def test_deleting_an_unknown_item_is_404(client: TestClient, auth: Auth) -> None:
    response = client.delete("/v1/items/nope", headers=auth())
    assert response.status_code == 404
    assert response.json()["detail"] == "item not found: 'nope'"


def test_put_then_get_users(client: TestClient, auth: Auth) -> None:
    users = [{"id": "u1", "properties": {"segment": "vip", "age": 31}}, {"id": "u2", "properties": {"x": None}}]
    response = client.put("/v1/users", json={"users": users}, headers=auth())
    assert response.json() == {
        "accepted": 1,
        "rejected": [
            {
                "index": 1,
                "error": f"properties.x: {NOT_A_VALUE}",
            }
        ],
    }
    body = client.get("/v1/users/u1", headers=auth()).json()
    assert body == {"id": "u1", "properties": {"segment": "vip", "age": 31}, "updated_at": body["updated_at"]}
    missing = client.get("/v1/users/u2", headers=auth())
    assert missing.status_code == 404
    assert missing.json() | {"request_id": None} == {
        "detail": "user not found: 'u2'",
        "code": "USER_NOT_FOUND",
        "request_id": None,
        "data": {"user_id": "u2"},
    }


def test_users_and_items_with_the_same_id_are_different_records(client: TestClient, auth: Auth) -> None:
    put_items(client, auth, [{"id": "x", "properties": {"kind": "item"}}])
    client.put("/v1/users", json={"users": [{"id": "x", "properties": {"kind": "user"}}]}, headers=auth())
    assert client.get("/v1/items/x", headers=auth()).json()["properties"] == {"kind": "item"}
    assert client.get("/v1/users/x", headers=auth()).json()["properties"] == {"kind": "user"}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_no_token_is_401(client: TestClient, method: str, path: str, body: Any) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_a_frontend_token_is_403(client: TestClient, auth: Auth, method: str, path: str, body: Any) -> None:
    response = client.request(method, path, json=body, headers=auth("acme", "frontend"))
    assert response.status_code == 403
    assert "requires one of the roles [backend, manager, root]" in response.json()["detail"]
