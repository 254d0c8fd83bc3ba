"""POST /v1/recommend through the gateway and the composed app, replaying the reference's examples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

Auth = Callable[..., dict[str, str]]
CONTEXT = {"user_region": "US-CA", "os_platform": "iOS", "device_type": "mobile", "referrer_source": "email_campaign"}
# The reference's two example requests, verbatim.
EXAMPLE_ITEM_IDS = {
    "user_id": "2f396d29fb98",
    "item_ids": ["EC5792", "FC7890", "QW1234"],
    "limit": 10,
    "model_id": "model_baseline-v1_4jbsb1qkzFJx3tQY7hB5",
    "context": CONTEXT,
}
EXAMPLE_ITEMS = {
    "user_id": "2f396d29fb98",
    "items": [
        {"id": "EC5792", "attributes": {"price": 49.99, "stock": 5}},
        {"id": "FC7890", "attributes": {"price": 12.00, "stock": 120, "on_sale": True}},
        {"id": "QW1234", "attributes": {"price": 199.00, "stock": 0}},
    ],
    "limit": 10,
    "model_id": "model_baseline-v1_4jbsb1qkzFJx3tQY7hB5",
    "context": CONTEXT,
}


def post(client: TestClient, auth: Auth, body: Any, **headers: str) -> Any:
    return client.post("/v1/recommend", json=body, headers={**auth("acme", "backend"), **headers})


@pytest.mark.parametrize("example", [EXAMPLE_ITEM_IDS, EXAMPLE_ITEMS], ids=["item_ids", "items"])
def test_reference_examples_with_an_unknown_model_are_404(client: TestClient, auth: Auth, example: dict) -> None:
    response = post(client, auth, example)
    assert response.status_code == 404
    assert response.json()["detail"] == "model not found: 'model_baseline-v1_4jbsb1qkzFJx3tQY7hB5'"
    assert response.json()["code"] == "MODEL_NOT_FOUND"


@pytest.mark.parametrize("example", [EXAMPLE_ITEM_IDS, EXAMPLE_ITEMS], ids=["item_ids", "items"])
def test_reference_examples_on_the_mock_model_answer_the_documented_shape(
    client: TestClient, auth: Auth, example: dict
) -> None:
    response = post(client, auth, {**example, "model_id": "test_model_item_200"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"rec_id", "items"}
    assert body["rec_id"].startswith("rec_") and len(body["rec_id"]) == 31
    assert body["items"] == [
        {"id": "EC5792", "score": 0.75},
        {"id": "FC7890", "score": 0.5},
        {"id": "QW1234", "score": 0.25},
    ]


def test_curl_example_with_legacy_model_name(client: TestClient, auth: Auth) -> None:
    body = {
        "user_id": "2f396d29fb98",
        "item_ids": ["ST678VG", "QW1234"],
        "limit": 10,
        "model_name": "test_model_item_200",
        "context": CONTEXT,
    }
    response = post(client, auth, body)
    assert response.status_code == 200
    assert [i["id"] for i in response.json()["items"]] == ["ST678VG", "QW1234"]


def test_limit_truncates_after_ranking(client: TestClient, auth: Auth) -> None:
    body = {"session_id": "s1", "item_ids": ["a", "b", "c", "d"], "limit": 2, "model_id": "test_model_item_200"}
    assert [i["id"] for i in post(client, auth, body).json()["items"]] == ["a", "b"]


def test_a_limit_past_the_candidates_returns_them_all_an_absurd_one_is_422(client: TestClient, auth: Auth) -> None:
    body = {"session_id": "s1", "item_ids": ["a", "b", "c"], "limit": 10**9, "model_id": "test_model_item_200"}
    response = post(client, auth, body)
    assert response.status_code == 200, response.text
    assert [i["id"] for i in response.json()["items"]] == ["a", "b", "c"]
    # found by the load-and-fuzz run: it was a 500
    huge = post(client, auth, {**body, "limit": 10**29})
    assert huge.status_code == 422
    assert "less than or equal to 2147483647" in huge.text


def test_duplicate_ids_echo_the_attributes_that_differ(client: TestClient, auth: Auth) -> None:
    body = {
        "user_id": "u1",
        "model_id": "test_model_item_200",
        "items": [
            {"id": "ST678VG", "attributes": {"price": 34.99, "stock": 12}},
            {"id": "ST678VG", "attributes": {"price": 29.99, "stock": 12}},
            {"id": "QW1234", "attributes": {"price": 19.50, "stock": 0, "on_sale": True}},
        ],
    }
    assert post(client, auth, body).json()["items"] == [
        {"id": "ST678VG", "score": 0.75, "price": 34.99},
        {"id": "ST678VG", "score": 0.5, "price": 29.99},
        {"id": "QW1234", "score": 0.25},
    ]


def test_every_response_has_a_new_rec_id(client: TestClient, auth: Auth) -> None:
    body = {"user_id": "u1", "item_ids": ["a"], "model_id": "test_model_item_200"}
    rec_ids = {post(client, auth, body).json()["rec_id"] for _ in range(20)}
    assert len(rec_ids) == 20


@pytest.mark.parametrize(
    ("model_id", "status"), [("test_model_item_400", 400), ("test_model_item_429", 429), ("test_model_item_503", 503)]
)
def test_error_mock_models_answer_their_status_with_a_json_body(
    client: TestClient, auth: Auth, model_id: str, status: int
) -> None:
    response = post(client, auth, {"user_id": "u1", "item_ids": ["a"], "model_id": model_id})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert model_id in response.json()["detail"]
    if status in (429, 503):
        assert int(response.headers["retry-after"]) > 0


def test_error_mocks_still_validate_the_request_first(client: TestClient, auth: Auth) -> None:
    response = post(client, auth, {"item_ids": ["a"], "model_id": "test_model_item_503"})
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ({"item_ids": ["a"], "model_id": "m"}, ["body"], "provide user_id, session_id, or both"),
        ({"user_id": "u", "model_id": "m"}, ["body"], "exactly one of item_ids or items"),
        ({"user_id": "u", "item_ids": ["a"]}, ["body"], "provide model_id"),
        ({"user_id": "u", "item_ids": ["a"], "model_id": "m", "limit": 0}, ["body", "limit"], "greater than or equal"),
        ({"user_id": "u", "item_ids": [], "model_id": "m"}, ["body", "item_ids"], "at least 1"),
        (
            {"user_id": "u", "items": [{"attributes": {}}], "model_id": "m"},
            ["body", "items", 0, "id"],
            "Field required",
        ),
        ({"user_id": "u", "item_ids": ["a"], "model_id": "m", "limt": 3}, ["body", "limt"], "Extra inputs"),
    ],
)
def test_schema_violations_are_422_with_a_detail_list_that_says_what_to_fix(
    client: TestClient, auth: Auth, body: dict, loc: list, message: str
) -> None:
    response = post(client, auth, body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(e["loc"] == loc and message in e["msg"] for e in detail), detail


@pytest.mark.parametrize("raw", [b'{"user_id": "u",', b"not json", b"[1, 2", b"\xff\xfe{}", b"[" * 100_000])
def test_malformed_json_is_400(client: TestClient, auth: Auth, raw: bytes) -> None:
    headers = {**auth("acme", "backend"), "content-type": "application/json"}
    response = client.post("/v1/recommend", content=raw, headers=headers)
    assert response.status_code == 400
    assert response.json()["code"] == "MALFORMED_JSON"
    assert "malformed JSON body" in response.json()["detail"]


def test_an_empty_body_is_400_like_other_malformed_bodies(client: TestClient, auth: Auth) -> None:
    headers = {**auth("acme", "backend"), "content-type": "application/json"}
    response = client.post("/v1/recommend", content=b"", headers=headers)
    assert response.status_code == 400
    assert response.json()["code"] == "MALFORMED_JSON"
    assert response.json()["detail"] == "request body is empty: send a JSON object"


def test_a_json_array_body_is_422_not_500(client: TestClient, auth: Auth) -> None:
    response = post(client, auth, [{"user_id": "u"}])
    assert response.status_code == 422


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_finite_numbers_are_422_not_500(client: TestClient, auth: Auth, literal: bytes) -> None:
    raw = b'{"user_id":"u","items":[{"id":"a","attributes":{"price":%s}}],"model_id":"test_model_item_200"}' % literal
    response = client.post(
        "/v1/recommend", content=raw, headers={**auth("acme", "backend"), "content-type": "application/json"}
    )
    assert response.status_code == 422
    assert any(e["loc"][:4] == ["body", "items", 0, "attributes"] for e in response.json()["detail"])
