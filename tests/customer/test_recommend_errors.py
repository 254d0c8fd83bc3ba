"""POST /api/recommend/recommend: every invalid request is a 400 naming what to fix; auth is 401 / 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reco.settings import Settings
from tests.customer.catalog import load_customer_shop
from tests.shop import load_shop

Auth = Callable[..., dict[str, str]]
PATH = "/api/recommend/recommend"
VALID = {"sequence_data": {}, "task": "product_recommendation", "template": "trending"}


def bad(client: TestClient, auth: Auth, body: Any, tenant: str = "acme") -> dict[str, Any]:
    response = client.post(PATH, json=body, headers=auth(tenant, "backend"))
    assert response.status_code == 400, response.text
    payload = response.json()
    assert isinstance(payload["detail"], str) and payload["request_id"]
    return dict(payload)


def without(field: str) -> dict[str, Any]:
    return {k: v for k, v in VALID.items() if k != field}


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (without("sequence_data"), "sequence_data: Field required"),
        (without("task"), "task: Field required"),
        (without("template"), "template: Field required"),
        ({**VALID, "sequence_data": ["not", "an", "object"]}, "sequence_data"),
        ({**VALID, "task": "churn_prediction"}, "task: Input should be 'product_recommendation'"),
        (
            {**VALID, "template": "bestsellers"},
            "template: Input should be 'personalized', 'trending', 'similar' or 'new_arrivals'",
        ),
        ({**VALID, "limit": 0}, "limit"),
        ({**VALID, "limit": 101}, "limit"),
        ({**VALID, "limit": "5"}, "limit"),
        ({**VALID, "tenant": "other"}, "tenant: Extra inputs are not permitted"),
        ({**VALID, "sequence_data": {"browsing_history": ["x"] * 1001}}, "sequence_data.browsing_history"),
        ({**VALID, "sequence_data": {"purchase_history": [{"id": 1}]}}, "sequence_data.purchase_history.0"),
        ({**VALID, "sequence_data": {"browsing_history": [True]}}, "sequence_data.browsing_history.0"),
        (
            {**VALID, "sequence_data": {"customer_preferences": {"categories": ["c"] * 51}}},
            "sequence_data.customer_preferences.categories",
        ),
        (
            {**VALID, "sequence_data": {"customer_preferences": {"categories": "books"}}},
            "sequence_data.customer_preferences.categories",
        ),
    ],
)
def test_invalid_fields_are_400_naming_them(client: TestClient, auth: Auth, body: Any, named: str) -> None:
    payload = bad(client, auth, body)
    assert payload["code"] == "VALIDATION_FAILED"
    assert payload["detail"].startswith("invalid request: ") and named in payload["detail"], payload["detail"]


@pytest.mark.parametrize(
    ("price_range", "named"),
    [
        ({"min": 500, "max": 50}, "min (500) must not be greater than max (50)"),
        ({"min": -1}, "price_range.min: Input should be greater than or equal to 0"),
        ({"max": "100"}, "price_range.max: Input should be a valid number"),
        ({"max": True}, "price_range.max: Input should be a valid number"),
        ({"min": 1, "maximum": 5}, "price_range.maximum: Extra inputs are not permitted"),
    ],
)
def test_bad_price_ranges_are_400_naming_them(client: TestClient, auth: Auth, price_range: Any, named: str) -> None:
    body = {**VALID, "sequence_data": {"customer_preferences": {"price_range": price_range}}}
    detail = bad(client, auth, body)["detail"]
    assert "sequence_data.customer_preferences.price_range" in detail and named in detail, detail


def test_non_finite_numbers_are_refused_anywhere_in_sequence_data(client: TestClient, auth: Auth) -> None:
    for text in ('{"price_range": {"max": Infinity}}', '{"weights": [1, NaN]}'):
        raw = f'{{"sequence_data": {{"customer_preferences": {text}}}, "task": "product_recommendation", '
        raw += '"template": "trending"}'
        response = client.post(PATH, content=raw, headers={**auth("acme"), "Content-Type": "application/json"})
        assert response.status_code == 400 and "finite number" in response.json()["detail"], response.text


def test_malformed_json_is_400(client: TestClient, auth: Auth) -> None:
    response = client.post(
        PATH, content=b'{"sequence_data": {', headers={**auth("acme"), "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "MALFORMED_JSON" and "malformed JSON" in response.json()["detail"]


def test_similar_needs_a_known_last_browsed_item(client: TestClient, auth: Auth) -> None:
    load_customer_shop("acme")
    payload = bad(client, auth, {**VALID, "template": "similar"})
    assert "similar template needs sequence_data.browsing_history" in payload["detail"]
    payload = bad(client, auth, {**VALID, "template": "similar", "sequence_data": {"browsing_history": []}})
    assert "browsing_history" in payload["detail"]
    unknown = {**VALID, "template": "similar", "sequence_data": {"browsing_history": ["product_100", "ghost-9"]}}
    payload = bad(client, auth, unknown)
    assert "'ghost-9' is not in the catalog" in payload["detail"] and payload["data"]["item_id"] == "ghost-9"


def test_properties_the_serving_model_lacks_are_400_naming_them(client: TestClient, auth: Auth) -> None:
    load_shop("vinyl")  # genre, price and year; no category, no created_at
    detail = bad(client, auth, {**VALID, "template": "new_arrivals"}, "vinyl")["detail"]
    assert "'created_at'" in detail and "new_arrivals" in detail
    prefs = {"customer_preferences": {"categories": ["rock"]}}
    detail = bad(client, auth, {**VALID, "sequence_data": prefs}, "vinyl")["detail"]
    assert "'category'" in detail
    priced = {"customer_preferences": {"price_range": {"min": 1}}}
    ok = client.post(PATH, json={**VALID, "sequence_data": priced}, headers=auth("vinyl"))
    assert ok.status_code == 200  # the shop has a price


def test_properties_of_the_wrong_kind_are_400(client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch) -> None:
    load_customer_shop("arrays", category_arrays=True)
    odd = Settings(date_property="category", price_property="title", category_property="price")
    monkeypatch.setattr("reco.customer.service.get_settings", lambda: odd)
    detail = bad(client, auth, {**VALID, "template": "new_arrivals"}, "arrays")["detail"]
    assert "needs 'category' to hold dates" in detail
    prices = {"customer_preferences": {"price_range": {"max": 10}}}
    assert "needs 'title' to hold numbers" in bad(client, auth, {**VALID, "sequence_data": prices}, "arrays")["detail"]
    # Numeric categories: "42.99" names the items priced 24.99.
    numeric = {"customer_preferences": {"categories": ["42.99", "not-a-number"]}}
    body = client.post(PATH, json={**VALID, "sequence_data": numeric}, headers=auth("arrays")).json()
    assert body["results"][0]["recommendation_id"] == "product_101"  # the only item priced 42.99


def test_without_a_token_401_and_logs_need_manager_or_root(client: TestClient, auth: Auth) -> None:
    assert client.post(PATH, json=VALID).status_code == 401
    assert client.get("/api/recommend/logs").status_code == 401
    for role in ("backend", "frontend"):
        response = client.get("/api/recommend/logs", headers=auth("acme", role))
        assert response.status_code == 403 and "requires one of the roles" in response.json()["detail"]
    for role in ("manager", "root"):
        assert client.get("/api/recommend/logs", headers=auth("acme", role)).status_code == 200


def test_a_tenant_without_a_trained_model_is_503_and_keeps_its_sequence_row(client: TestClient, auth: Auth) -> None:
    response = client.post(PATH, json=VALID, headers={**auth("empty"), "X-Request-Id": "req-no-model"})
    assert response.status_code == 503 and response.json()["code"] == "DATABASE_NOT_READY"
    logs = client.get("/api/recommend/logs", headers=auth("empty", "manager")).json()["logs"]
    assert [(row["request_id"], row["type"]) for row in logs] == [("req-no-model", "sequence")]


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"])
def test_a_401_has_the_references_body(client: TestClient, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for response in (
        client.post(PATH, json=VALID, headers=headers),
        client.get("/api/recommend/logs", headers=headers),
    ):
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid authentication credentials"}
    assert client.post("/v1/recommend", json={}, headers=headers).json() == {"message": "Unauthorized"}  # elsewhere


def test_a_function_level_401_keeps_the_references_detail_and_says_why(client: TestClient, token: Any) -> None:
    headers = {"Authorization": f"Bearer {token('acme', 'backend', extra_claims={'tenant': None})}"}
    response = client.post(PATH, json=VALID, headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid authentication credentials"
    assert "tenant" in response.json()["reason"]


def test_history_ids_take_the_catalogs_length_and_the_error_counts_characters(client: TestClient, auth: Auth) -> None:
    load_customer_shop("acme")
    fine = client.post(
        PATH, json={**VALID, "sequence_data": {"browsing_history": ["x" * 256]}}, headers=auth("acme", "backend")
    )
    assert fine.status_code == 200, fine.text
    payload = bad(client, auth, {**VALID, "sequence_data": {"purchase_history": ["x" * 257]}})
    assert "sequence_data.purchase_history.0: String should have at most 256 characters" in payload["detail"]


def test_the_openapi_document_says_400_where_validation_answers_400(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/recommend/recommend", "/v1/recommendations", "/scenarios/"):
        for operation in paths[path].values():
            assert "422" not in operation["responses"], path
            assert "400" in operation["responses"], path
    assert "422" in paths["/v1/recommend"]["post"]["responses"]  # FastAPI's 422 where the route answers 422
