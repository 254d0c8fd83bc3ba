"""Bodies a client can get wrong at the byte level: each is a 4xx that says what to fix, never a 500."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

Auth = Callable[..., dict[str, str]]
OK = {"user_id": "u1", "item_ids": ["a"], "model_id": "test_model_item_200"}


def raw_post(client: TestClient, auth: Auth, body: bytes, content_type: str | None = "application/json") -> object:
    headers = auth()
    if content_type is not None:
        headers["content-type"] = content_type
    return client.post("/v1/recommend", content=body, headers=headers)


@pytest.mark.parametrize(
    "body",
    [
        b'{"user_id": "u1", "item_ids": ["\\ud800"], "model_id": "test_model_item_200"}',
        b'{"user_id": "u1", "item_ids": ["a"], "model_id": "m\\udfff"}',
        b'{"user_id": "\\ud800", "model_id": "test_model_item_200"}',
        b'{"\\ud800": 1, "user_id": "u1", "item_ids": ["a"], "model_id": "test_model_item_200"}',
    ],
)
def test_unpaired_surrogate_escapes_are_400(client: TestClient, auth: Auth, body: bytes) -> None:
    response = raw_post(client, auth, body)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert response.json()["code"] == "MALFORMED_JSON"  # type: ignore[attr-defined]
    assert "unpaired UTF-16 surrogate" in response.json()["detail"]  # type: ignore[attr-defined]


def test_a_well_formed_surrogate_pair_is_an_ordinary_character(client: TestClient, auth: Auth) -> None:
    body = (
        b'{"user_id": "u1", "item_ids": ["\\ud83d\\ude00", "caf\\u00e9", "\\\\ud800"],'
        b' "model_id": "test_model_item_200"}'
    )
    response = raw_post(client, auth, body)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert [i["id"] for i in response.json()["items"]] == ["\U0001f600", "café", "\\ud800"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "content_type",
    ["application/octet-stream", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "text/plain"],
)
def test_non_json_media_types_are_415_naming_the_fix(client: TestClient, auth: Auth, content_type: str) -> None:
    response = raw_post(client, auth, b"\xff\xfe\x00 user_id=u1", content_type)
    assert response.status_code == 415  # type: ignore[attr-defined]
    assert "Content-Type: application/json" in response.json()["detail"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("content_type", [None, "application/json; charset=utf-8", "application/vnd.api+json"])
def test_json_bodies_without_or_with_json_like_content_types_are_read(
    client: TestClient, auth: Auth, content_type: str | None
) -> None:
    response = raw_post(client, auth, json.dumps(OK).encode(), content_type)
    assert response.status_code == 200  # type: ignore[attr-defined]


def test_a_thousand_bad_values_give_a_small_422_that_still_says_what_to_fix(client: TestClient, auth: Auth) -> None:
    items = [{"id": f"i{n}", "attributes": {f"a{k}": None for k in range(64)}} for n in range(1000)]
    response = client.post("/v1/recommend", json={"user_id": "u", "model_id": "m", "items": items}, headers=auth())
    assert response.status_code == 422
    body = response.json()
    assert len(body["detail"]) == 50
    assert body["omitted_errors"] == 64_000 - 50  # one error per bad value, not one per union branch
    assert len(response.content) < 30_000
    assert body["detail"][0]["loc"] == ["body", "items", 0, "attributes", "a0"]


def test_long_offending_strings_are_echoed_truncated(client: TestClient, auth: Auth) -> None:
    response = client.post("/v1/recommend", json={**OK, "user_id": "u" * 100_000}, headers=auth())
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "user_id"]
    assert len(error["input"]) == 201 and error["input"].endswith("…")


def test_a_limit_above_the_candidate_count_returns_every_candidate(client: TestClient, auth: Auth) -> None:
    response = client.post("/v1/recommend", json={**OK, "item_ids": ["a", "b"], "limit": 5000}, headers=auth())
    assert [i["id"] for i in response.json()["items"]] == ["a", "b"]


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain; charset=utf-8"])
def test_a_json_body_declared_as_another_type_is_read_as_json_like_curl_d_sends_it(
    client: TestClient, auth: Auth, content_type: str
) -> None:
    response = raw_post(client, auth, json.dumps(OK).encode(), content_type)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert [i["id"] for i in response.json()["items"]] == ["a"]  # type: ignore[attr-defined]
