"""Client mistakes and odd data on the scenario routes: each is a 4xx or a warning, never a 500."""

from __future__ import annotations

from collections.abc import Callable

import boto3
import pytest
from fastapi.testclient import TestClient

from reco.errors import WrongDataType
from reco.scenarios.filter_rules import check_filter
from tests.shop import load_shop

Auth = Callable[..., dict[str, str]]
HUGE = int("1" + "0" * 400)


def test_integers_too_large_for_a_float_are_a_wrong_data_type() -> None:
    with pytest.raises(WrongDataType):
        check_filter("year", "gt", HUGE, "number")


def test_odd_inputs_answer_4xx(client: TestClient, auth: Auth) -> None:
    load_shop("edge")
    h = auth("edge", "manager")
    huge = client.get(f"/recommendation/users/u1/items/?filters=year:gt:{HUGE}", headers=h)
    assert huge.status_code == 400 and huge.json()["error_data"]["name"] == "WRONG_DATA_TYPE"
    cap = {"property_name": "genre", "op": "diversity", "options": {"max_activation_count": 0}}
    bad = client.put(
        "/scenarios/profile_to_items/d/", json={"scenario_type": "case", "case": {"reranking": [cap]}}, headers=h
    )
    assert bad.status_code == 400 and bad.json()["error_data"]["name"] == "WRONG_DATA_TYPE"
    boolean = client.get("/recommendation/users/u1/items/?reranking=genre:diversity:true", headers=h)
    assert boolean.status_code == 400
    empty_page = client.get("/recommendation/users/u1/items/?amt=0", headers=h).json()
    assert empty_page["items_id"] == [] and empty_page["next_cursor"] is None


def test_user_properties_that_do_not_fit_skip_their_filter_with_a_warning(client: TestClient, auth: Auth) -> None:
    load_shop("edge")
    h = auth("edge", "frontend")
    ref = {"type": "user_property", "value": "picked"}
    body = {
        "interactions": [{"item_id": "i1", "interaction_type": "view"}],
        "amt": 8,
        "filters": [{"property_name": "genre", "op": "eq", "value": ref}],
    }
    as_list = client.post(
        "/recommendation/sessions/items/", json={**body, "user_properties": {"picked": ["rock", "jazz"]}}, headers=h
    )
    assert as_list.status_code == 200 and as_list.json()["warnings"] == []
    genres = {int(i[1:]) % 4 for i in as_list.json()["items_id"]}
    assert genres <= {0, 1}  # rock, jazz: a list under eq means "any of"
    for odd in ([], {}, "", 12):
        response = client.post(
            "/recommendation/sessions/items/", json={**body, "user_properties": {"picked": odd}}, headers=h
        )
        assert response.status_code == 200, (odd, response.text)
        assert "filter skipped" in response.json()["warnings"][0]


def test_a_preview_of_a_stored_flow_logs_no_decision(client: TestClient, auth: Auth) -> None:
    load_shop("edge")
    h = auth("edge", "manager")
    generic = {"scenario_type": "case", "case": {"reco_type": "profile_to_items"}}
    assert client.put("/scenarios/generic_input_to_items/g/", json=generic, headers=h).status_code == 200
    before = boto3.resource("dynamodb").Table("DecisionsTable").scan()["Count"]
    preview = client.post("/scenarios/preview/", json={"scenario": "g", "user_id": "u1"}, headers=h)
    assert preview.status_code == 200 and len(preview.json()["items_id"]) == 10
    assert boto3.resource("dynamodb").Table("DecisionsTable").scan()["Count"] == before
    live = client.post("/recommendation/generic/items/", json={"scenario": "g", "user_id": "u1"}, headers=h)
    assert live.status_code == 200
    assert boto3.resource("dynamodb").Table("DecisionsTable").scan()["Count"] == before + 1


def test_a_sequence_block_of_amt_zero_adds_nothing(client: TestClient, auth: Auth) -> None:
    load_shop("edge")
    h = auth("edge", "manager")
    case = {
        "case_sequence": {
            "sequence": [{"amt": 2, "filters": [{"property_name": "genre", "op": "eq", "value": "rock"}]}, {"amt": 0}]
        }
    }
    assert (
        client.put(
            "/scenarios/profile_to_items/seq/", json={"scenario_type": "case", "case": case}, headers=h
        ).status_code
        == 200
    )
    items = client.get("/recommendation/users/u1/items/?scenario=seq", headers=h).json()["items_id"]
    assert len(items) == 2 and all(int(i[1:]) % 4 == 0 for i in items)
