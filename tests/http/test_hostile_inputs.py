"""Inputs built to break the service: each is a 4xx that names the limit, and no stored record can
poison later reads of its tenant."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reco.schemas.bounds import MAX_FREE_FORM_DEPTH, MAX_JSON_DEPTH, json_depth
from reco.settings import get_settings
from reco.stores.aws import dynamodb_table

Auth = Callable[..., dict[str, str]]
JSON = {"content-type": "application/json"}
ALIAS = '{"scenario_type": "alias", "alias": {"scenario_name": "x"}'


def nested(depth: int, leaf: str = "1") -> str:
    return '{"a": ' * depth + leaf + "}" * depth


def scenario_url(name: str) -> str:
    return f"/scenarios/profile_to_items/{name}/"


def test_json_depth_counts_structure_not_brackets_in_strings() -> None:
    assert json_depth(b'{"a": [1, 2, {"b": "[[[[{{{{"}]}') == 3
    assert json_depth(nested(MAX_JSON_DEPTH + 5).encode()) == MAX_JSON_DEPTH + 5
    # closers hidden in strings cannot make a deep text look shallow
    hidden = ('{"a": ' * 30 + '"' + "]" * 30 + '", "b": ') * 3 + "1" + "}" * 90
    assert json_depth(hidden.encode()) == 90
    assert json_depth(b'"' + b"[" * 100 + b'"') == 0


@pytest.mark.parametrize("depth", [200, 250, 500])
def test_deeply_nested_scenario_metadata_is_refused_and_the_tenant_keeps_working(
    client: TestClient, auth: Auth, depth: int
) -> None:
    body = ALIAS + ', "metadata": ' + nested(depth) + "}"
    refused = client.put(scenario_url("deep"), content=body, headers={**auth("acme", "backend"), **JSON})
    assert refused.status_code == 400
    assert f"nested {depth + 1} levels deep; at most {MAX_JSON_DEPTH} levels are accepted" in refused.text
    listed = client.get("/scenarios/", headers=auth("acme", "backend"))
    assert listed.status_code == 200
    assert listed.json()["scenarios"] == []


def test_free_form_fields_are_bounded_in_depth_and_size(client: TestClient, auth: Auth) -> None:
    deep = client.put(
        scenario_url("deep"),
        content=ALIAS + ', "metadata": ' + nested(MAX_FREE_FORM_DEPTH + 1) + "}",
        headers={**auth("acme", "backend"), **JSON},
    )
    assert deep.status_code == 400
    assert f"nested more than {MAX_FREE_FORM_DEPTH} levels deep" in deep.text
    large = client.put(
        scenario_url("large"),
        json={"scenario_type": "alias", "alias": {"scenario_name": "x"}, "metadata": {"note": "x" * 40_000}},
        headers=auth("acme", "backend"),
    )
    assert large.status_code == 400
    assert "at most 32768 are accepted" in large.text
    fine = client.put(
        scenario_url("fine"),
        content=ALIAS + ', "metadata": ' + nested(MAX_FREE_FORM_DEPTH) + "}",
        headers={**auth("acme", "backend"), **JSON},
    )
    assert fine.status_code == 200


def _store_raw_scenario(tenant: str, name: str, document: str) -> None:
    dynamodb_table(get_settings().config_table).put_item(
        Item={
            "pk": f"{tenant}#scenario",
            "sk": f"profile_to_items#{name}",
            "reco_type": "profile_to_items",
            "name": name,
            "document": document,
        }
    )


def test_a_stored_record_that_cannot_be_decoded_is_skipped_not_a_500(client: TestClient, auth: Auth) -> None:
    headers = auth("acme", "backend")
    assert (
        client.put(
            scenario_url("good"), json={"scenario_type": "alias", "alias": {"scenario_name": "x"}}, headers=headers
        ).status_code
        == 200
    )
    # as an earlier version, without the limits, could have stored it
    _store_raw_scenario("acme", "poison", ALIAS + ', "metadata": ' + nested(240) + "}")

    listed = client.get("/scenarios/", headers=headers)
    assert listed.status_code == 200
    assert [s["name"] for s in listed.json()["scenarios"]] == ["good"]
    other = client.put(
        scenario_url("other"), json={"scenario_type": "alias", "alias": {"scenario_name": "good"}}, headers=headers
    )
    assert other.status_code == 200
    got = client.get(scenario_url("poison"), headers=headers)
    assert got.status_code == 409
    assert "delete it and write it again" in got.text
    assert client.delete(scenario_url("poison"), headers=headers).status_code == 204
    assert client.get(scenario_url("poison"), headers=headers).status_code == 404


@pytest.mark.parametrize("depth", [300, 500, 900])
def test_deep_ranking_context_is_a_4xx(client: TestClient, auth: Auth, depth: int) -> None:
    body = '{"user_id": "u1", "item_ids": ["a"], "model_id": "test_model_item_200", "context": ' + nested(depth) + "}"
    response = client.post("/v1/recommend", content=body, headers={**auth(), **JSON})
    assert response.status_code == 400
    assert f"at most {MAX_JSON_DEPTH} levels are accepted" in response.json()["detail"]


def test_shallow_but_too_deep_context_names_its_own_limit(client: TestClient, auth: Auth) -> None:
    body = '{"user_id": "u1", "item_ids": ["a"], "model_id": "test_model_item_200", "context": ' + nested(20) + "}"
    response = client.post("/v1/recommend", content=body, headers={**auth(), **JSON})
    assert response.status_code == 422
    assert "context nested more than 8 levels deep" in response.text


def test_a_huge_epoch_timestamp_rejects_its_row_only(client: TestClient, auth: Auth) -> None:
    rows = (
        '[{"event_id": "e1", "user_id": "u1", "item_id": "i1", "type": "view", "timestamp": 1'
        + "0" * 400
        + '}, {"event_id": "e2", "user_id": "u1", "item_id": "i1", "type": "view"}]'
    )
    response = client.post("/v1/events", content='{"events": ' + rows + "}", headers={**auth(), **JSON})
    assert response.status_code in (200, 207), response.text
    body: dict[str, Any] = response.json()
    assert body["accepted"] == 1
    [rejected] = body["rejected"]
    assert rejected["index"] == 0
    assert "a 401-digit number is out of range" in json.dumps(rejected)


@pytest.mark.parametrize(("recipe", "param"), [("ease", "l2"), ("als", "factors"), ("item_knn", "neighbors")])
def test_a_huge_integer_param_is_a_422(client: TestClient, auth: Auth, recipe: str, param: str) -> None:
    body = '{"recipe": "' + recipe + '", "params": {"' + param + '": 1' + "0" * 400 + "}}"
    response = client.put("/v1/models/m1", content=body, headers={**auth("acme", "manager"), **JSON})
    assert response.status_code == 422
    assert f"{recipe} param '{param}' is out of range: integers have at most 38 digits" in response.text


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/recommendation/users/u1/items/", {"filters": "genre:in:" + "[" * 1000 + "]" * 1000}),
        ("/scenarios/", {"metadata_filters": "a:eq:" + "[" * 400 + "]" * 400}),
    ],
)
def test_deep_json_in_a_query_string_is_a_400(
    client: TestClient, auth: Auth, path: str, parameter: dict[str, str]
) -> None:
    response = client.get(path, params=parameter, headers=auth("acme", "backend"))
    assert response.status_code == 400
    depth = parameter[next(iter(parameter))].count("[")
    assert f"nested {depth} levels deep; at most {MAX_JSON_DEPTH} levels are accepted" in response.text


def test_a_huge_integer_attribute_is_a_422(client: TestClient, auth: Auth) -> None:
    body = (
        '{"user_id": "u1", "model_id": "test_model_item_200", "items": [{"id": "a", "attributes": {"n": 1'
        + "0" * 400
        + "}}]}"
    )
    response = client.post("/v1/recommend", content=body, headers={**auth(), **JSON})
    assert response.status_code == 422
    assert "attribute numbers must be below 1e126 in magnitude" in response.text


def test_a_stored_context_that_cannot_be_decoded_is_skipped_not_a_500(client: TestClient, auth: Auth) -> None:
    headers = auth("acme", "manager")
    assert client.put("/v1/contexts/1", json={"name": "Home"}, headers=headers).status_code == 200
    dynamodb_table(get_settings().config_table).put_item(
        Item={"pk": "acme#context", "sk": "2".zfill(18), "document": '{"id": "2", "name": ' + nested(300) + "}"}
    )
    listed = client.get("/v1/contexts", headers=headers)
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["data"]] == ["1"]
    got = client.get("/v1/contexts/2", headers=headers)
    assert got.status_code == 409
    assert "delete it and write it again" in got.text
    assert client.delete("/v1/contexts/2", headers=headers).status_code in (200, 204)
    assert client.get("/v1/contexts/2", headers=headers).status_code == 404
