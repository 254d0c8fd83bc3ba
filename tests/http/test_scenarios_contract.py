"""The Scenarios API (/scenarios…, /scenarios-default…) against its reference: EXAMPLE bodies, error bullets."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.shop import load_shop

Auth = Callable[..., dict[str, str]]
P2I = "profile_to_items"
CLASSES = {400: ("WrongData", 41), 403: ("ForbiddenError", 31), 404: ("NotFoundError", 50)}
CLASSES[503] = ("ServerUnavailable", 1)

# The reference's EXAMPLE bodies, as JSON text: the PUT examples (name → body) ...
PUT_EXAMPLES: dict[str, Any] = json.loads("""{
"case": {"scenario_type": "case", "case": {"amt": 10,
    "filters": [{"property_name": "tags", "op": "eq", "value": "pi"},
                {"property_name": "price", "op": "gt", "value": 3.14}],
    "reranking": [{"property_name": "director", "op": "diversity", "weight": 0.8}], "exclude_rated_items": false,
    "exclude_items_with_interaction_types": ["purchase", "add_to_cart"], "algorithms": "algo101|algo102",
    "candidates_preselection": {"method": "knn", "params": {"algorithms": ["algo103"]}}}},
"nested_filter_value": {"scenario_type": "case", "case": {"filters": [{"property_name": "category", "op": "eq",
    "value": {"type": "user_property", "value": "selected_category"}}]}},
"condition_user_function": {"scenario_type": "condition", "condition": {"condition_type": "user_function",
    "if": {"function_name": "n_ratings", "op": "gte", "value": 21}, "then": "scenario1", "else": "scenario2"}},
"condition_item_property": {"scenario_type": "condition", "condition": {"condition_type": "item_property",
    "if": {"property_name": "prop_int", "op": "lt", "value": 21}, "then": "scenario1", "else": "scenario2"}},
"condition_runtime_param": {"scenario_type": "condition", "condition": {"condition_type": "runtime_param",
    "if": {"param_name": "user_id", "op": "notempty"}, "then": "scenario1", "else": "scenario2"}},
"ab_test": {"scenario_type": "ab_test",
    "ab_test": {"id": "ab-test-id12345", "scenario_a": "scenar1", "scenario_b": "scenar2"}},
"alias": {"scenario_type": "alias", "alias": {"scenario_name": "my_favorite_scenario"}}
}""")
# ... what their warnings must name (an empty catalog: unknown properties, targets not created yet) ...
WARNED = {
    "case": ["'tags'", "'price'", "'director'"],
    "nested_filter_value": ["'category'"],
    "condition_user_function": ["'scenario1'", "'scenario2'"],
    "condition_item_property": ["'prop_int'", "'scenario1'", "'scenario2'"],
    "condition_runtime_param": ["'scenario1'", "'scenario2'"],
    "ab_test": ["'scenar1'", "'scenar2'"],
    "alias": ["'my_favorite_scenario'"],
}
# ... and the scenarios of the GET examples and of the GET /scenarios/ EXAMPLE RESPONSE (in list order).
GET_EXAMPLES: dict[str, Any] = json.loads("""{
"my_scenar101": {"scenario_type": "case", "case": {"amt": 6,
    "filters": [{"property_name": "year", "op": "eq", "value": 1988}],
    "reranking": [{"property_name": "genres", "op": "diversity", "weight": 0.25}], "exclude_rated_items": false,
    "algorithms": "algo105|algo106",
    "candidates_preselection": {"method": "knn", "params": {"algorithms": ["algo103"]}}}},
"my_scenar_ab": {"scenario_type": "ab_test",
    "ab_test": {"id": "my_ab_test", "scenario_a": "scenar1", "scenario_b": "scenar2"}},
"my_scenar_alias": {"scenario_type": "alias", "alias": {"scenario_name": "my_favorite_scenario"}}
}""")
LIST_EXAMPLE: dict[str, Any] = json.loads("""{
"my_condition_scenar": {"scenario_type": "condition", "condition": {"condition_type": "user_function",
    "if": {"function_name": "n_ratings", "op": "gte", "value": 5}, "then": "my_scenar_case_1", "else": "my_scenar_ab"}},
"my_scenar_ab": {"scenario_type": "ab_test",
    "ab_test": {"id": "my_ab_test", "scenario_a": "my_scenar_case_1", "scenario_b": "my_scenar_case_2"}},
"my_scenar_alias": {"scenario_type": "alias", "alias": {"scenario_name": "my_condition_scenar"}},
"my_scenar_case_1": {"scenario_type": "case", "case": {"amt": 13,
    "filters": [{"property_name": "year", "op": "eq", "value": 1988}],
    "reranking": [{"property_name": "genres", "op": "diversity", "weight": 0.25}], "exclude_rated_items": false,
    "algorithms": "algo105|algo106",
    "candidates_preselection": {"method": "knn", "params": {"algorithms": ["algo103"]}}}}
}""")


def url(name: str, reco_type: str = P2I) -> str:
    return f"/scenarios/{reco_type}/{name}/"


def case(**fields: Any) -> dict[str, Any]:
    return {"scenario_type": "case", "case": fields}


def alias(target: str) -> dict[str, Any]:
    return {"scenario_type": "alias", "alias": {"scenario_name": target}}


def put(client: TestClient, auth: Auth, name: str, body: Any, tenant: str = "acme", reco_type: str = P2I) -> Any:
    return client.put(url(name, reco_type), json=body, headers=auth(tenant, "backend"))


def assert_error(response: Any, status: int, name: str, *mentions: str) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"error_code", "error_name", "message", "error_data", "request_id"}
    assert (body["error_name"], body["error_code"]) == CLASSES[status]
    assert body["error_data"]["name"] == name
    for word in mentions:
        assert word in body["message"], (word, body["message"])
    return body


def test_put_examples_are_stored_and_returned_as_sent(client: TestClient, auth: Auth) -> None:
    for example, body in PUT_EXAMPLES.items():
        written = put(client, auth, f"ex_{example}", body)
        assert written.status_code == 200, (example, written.json())
        assert set(written.json()) == {"warnings"}
        warnings = written.json()["warnings"]
        assert all(isinstance(w, str) for w in warnings)
        for word in WARNED[example]:
            assert any(word in w for w in warnings), (example, word, warnings)
        got = client.get(url(f"ex_{example}"), headers=auth("acme", "backend"))
        assert got.status_code == 200
        assert got.json() == {"name": f"ex_{example}", "reco_type": P2I, "scenario": body}


def test_get_and_list_response_examples_round_trip(client: TestClient, auth: Auth) -> None:
    for name, body in GET_EXAMPLES.items():
        assert put(client, auth, name, body).status_code == 200
        assert client.get(url(name), headers=auth()).json() == {"name": name, "reco_type": P2I, "scenario": body}
    for name, body in LIST_EXAMPLE.items():  # another tenant: my_scenar_ab differs, and ab tests are immutable
        assert put(client, auth, name, body, tenant="lister").status_code == 200, name
    listed = client.get("/scenarios/", params={"reco_type": P2I}, headers=auth("lister"))
    assert listed.status_code == 200
    assert listed.json()["has_next"] is False and listed.json().get("next_cursor") is None
    assert listed.json()["scenarios"] == [{"name": n, "reco_type": P2I, "scenario": b} for n, b in LIST_EXAMPLE.items()]


UPPER_CASE_OPS = [  # "choices (case insensitive)": stored and returned lower-cased
    """{"scenario_type": "case", "case": {"filters": [{"property_name": "year", "op": "GTE", "value": 2000}],
        "reranking": [{"property_name": "genre", "op": "Diversity"}]}}""",
    """{"scenario_type": "condition", "condition": {"condition_type": "USER_FUNCTION",
        "if": {"function_name": "N_Ratings", "op": "GTE", "value": 1}, "then": "up0", "else": "up0"}}""",
]


def test_case_insensitive_ops_are_stored_lower_cased(client: TestClient, auth: Auth) -> None:
    for k, text in enumerate(UPPER_CASE_OPS):
        assert put(client, auth, f"up{k}", json.loads(text)).status_code == 200
        assert client.get(url(f"up{k}"), headers=auth()).json()["scenario"] == json.loads(text.lower())


def test_list_example_query_filters_metadata_with_and(client: TestClient, auth: Auth) -> None:
    metadata = {
        "both": {"configs": {"level": 5}, "mode": "read"},
        "both_and_more": {"configs": {"level": 5, "x": 1}, "mode": "read", "owner": "ann"},
        "level_only": {"configs": {"level": 5}, "mode": "write"},
        "mode_only": {"configs": {"level": 4}, "mode": "read"},
        "flat": {"configs.level": 5, "mode": "read"},
        "none": None,
    }
    for name, meta in metadata.items():
        body = case(amt=1) if meta is None else {**case(amt=1), "metadata": meta}
        assert put(client, auth, name, body).status_code == 200
    other_type = put(client, auth, "both", {**case(), "metadata": metadata["both"]}, reco_type="item_to_items")
    assert other_type.status_code == 200
    query = "?amt=10&reco_type=profile_to_items&metadata_filters=configs.level:eq:5&metadata_filters=mode:eq:read"
    listed = client.get(f"/scenarios/{query}", headers=auth())
    assert listed.status_code == 200
    found = [(s["reco_type"], s["name"]) for s in listed.json()["scenarios"]]
    assert found == [(P2I, "both"), (P2I, "both_and_more")]
    assert listed.json()["scenarios"][0]["scenario"]["metadata"] == metadata["both"]
    escaped = client.get("/scenarios/", params={"metadata_filters": "configs\\.level:eq:5"}, headers=auth())
    assert [s["name"] for s in escaped.json()["scenarios"]] == ["flat"]
    unknown_op = client.get("/scenarios/?metadata_filters=mode:like:read", headers=auth())
    assert_error(unknown_op, 400, "WRONG_PARAMETER", "like")


def test_list_pages_with_amt_and_next_cursor(client: TestClient, auth: Auth) -> None:
    names = [(P2I, f"s{k}") for k in range(6)] + [("item_to_items", "i0"), ("item_to_items", "i1")]
    for k, (reco_type, name) in enumerate(names):
        body = alias("s0") if k in (2, 3, 5) else case(amt=k)
        assert put(client, auth, name, body, reco_type=reco_type).status_code == 200

    def pages(amt: int, **params: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        query: dict[str, Any] = {"amt": amt, **params}
        while True:
            page = client.get("/scenarios/", params=query, headers=auth()).json()
            found.append(page)
            if not page["has_next"]:
                assert page.get("next_cursor") is None
                return found
            assert len(page["scenarios"]) == amt and page["next_cursor"]
            query["cursor"] = page["next_cursor"]

    everything = pages(3)
    assert [len(p["scenarios"]) for p in everything] == [3, 3, 2]
    assert [(s["reco_type"], s["name"]) for p in everything for s in p["scenarios"]] == sorted(names)
    by_type = pages(2, reco_type=P2I)
    assert [s["name"] for p in by_type for s in p["scenarios"]] == [f"s{k}" for k in range(6)]
    aliases = pages(2, scenario_type="alias")
    assert [[s["name"] for s in p["scenarios"]] for p in aliases] == [["s2", "s3"], ["s5"]]
    exact = client.get("/scenarios/", params={"amt": 8}, headers=auth()).json()
    assert exact["has_next"] is False and len(exact["scenarios"]) == 8
    for bad in ({"amt": 0}, {"amt": 513}, {"scenario_type": "loop"}, {"reco_type": "nope"}):
        assert_error(client.get("/scenarios/", params=bad, headers=auth()), 400, "WRONG_PARAMETER")


def test_default_scenario_get_set_unset(client: TestClient, auth: Auth) -> None:
    default = "/scenarios-default/profile_to_items/"
    assert_error(client.get(default, headers=auth()), 404, "SCENARIO_NOT_FOUND", "profile_to_items")
    patched = client.patch(default, json={"name": "scenario_107"}, headers=auth())
    assert_error(patched, 404, "SCENARIO_NOT_FOUND", "scenario_107")
    assert put(client, auth, "scenario_107", case(amt=3)).status_code == 200
    assert client.patch(default, json={"name": "scenario_107"}, headers=auth()).status_code in (200, 204)
    assert client.get(default, headers=auth()).json() == {"name": "scenario_107"}
    assert_error(client.delete(url("scenario_107"), headers=auth()), 400, "SCENARIO_IN_USE", "scenario_107")
    assert client.get("/scenarios-default/item_to_items/", headers=auth()).status_code == 404  # per reco type
    assert client.delete(default, headers=auth()).status_code in (200, 204)
    assert_error(client.get(default, headers=auth()), 404, "SCENARIO_NOT_FOUND")
    assert client.delete(url("scenario_107"), headers=auth()).status_code in (200, 204)
    assert_error(client.patch(default, json={"nom": "x"}, headers=auth()), 400, "WRONG_DATA_TYPE", "name")


def test_authorized_roles_manage_scenarios(client: TestClient, auth: Auth) -> None:
    default = "/scenarios-default/profile_to_items/"
    for role in ("root", "manager", "backend"):
        headers = auth("acme", role)
        assert client.put(url("mine"), json=case(amt=2), headers=headers).status_code == 200, role
        assert client.get(url("mine"), headers=headers).status_code == 200
        assert [s["name"] for s in client.get("/scenarios/", headers=headers).json()["scenarios"]] == ["mine"]
        assert client.patch(default, json={"name": "mine"}, headers=headers).status_code in (200, 204)
        assert client.get(default, headers=headers).json() == {"name": "mine"}
        assert client.delete(default, headers=headers).status_code in (200, 204)
        assert client.delete(url("mine"), headers=headers).status_code in (200, 204)


def test_frontend_may_only_preview(client: TestClient, auth: Auth) -> None:
    load_shop("acme")
    assert put(client, auth, "kept", case(amt=2)).status_code == 200
    front = auth("acme", "frontend")
    calls = [
        client.put(url("mine"), json=case(amt=2), headers=front),
        client.get(url("kept"), headers=front),
        client.delete(url("kept"), headers=front),
        client.get("/scenarios/", headers=front),
        client.get("/scenarios-default/profile_to_items/", headers=front),
        client.patch("/scenarios-default/profile_to_items/", json={"name": "kept"}, headers=front),
        client.delete("/scenarios-default/profile_to_items/", headers=front),
    ]
    for response in calls:
        assert_error(response, 403, "FORBIDDEN", "frontend")
    assert client.get(url("kept"), headers=auth()).status_code == 200  # the refused delete deleted nothing
    preview = {
        "scenario": "g",
        "user_id": "u1",
        "preview_scenarios_params": [
            {"name": "g", "reco_type": "generic_input_to_items", "scenario": case(reco_type=P2I, scenario="kept")}
        ],
    }
    previewed = client.post("/scenarios/preview/", json=preview, headers=front)
    assert previewed.status_code == 200, previewed.json()
    assert len(previewed.json()["items_id"]) == 2


def test_missing_scenarios_are_scenario_not_found(client: TestClient, auth: Auth) -> None:
    assert_error(client.get(url("ghost"), headers=auth()), 404, "SCENARIO_NOT_FOUND", "ghost")
    assert_error(client.delete(url("ghost"), headers=auth()), 404, "SCENARIO_NOT_FOUND", "ghost")
    assert put(client, auth, "ghost", case(amt=1), reco_type="item_to_items").status_code == 200
    assert_error(client.get(url("ghost"), headers=auth()), 404, "SCENARIO_NOT_FOUND", "profile_to_items")


INVALID = {
    "amt_65": (case(amt=65), "amt"),
    "eleven_filters": (case(filters=[{"property_name": f"p{k}", "op": "notempty"} for k in range(11)]), "filters"),
    "three_steps": (case(case_sequence={"sequence": [{"amt": 1}, {"amt": 1}, {"amt": 1}]}), "sequence"),
    "weight_0": (case(reranking=[{"property_name": "genre", "op": "diversity", "weight": 0}]), "weight"),
    "unknown_op": (case(filters=[{"property_name": "genre", "op": "like", "value": "rock"}]), "op"),
    "two_bodies": ({**case(amt=1), "alias": {"scenario_name": "x"}}, "exactly"),
    "body_not_matching_type": ({"scenario_type": "alias", "case": {"amt": 1}}, "alias"),
    "no_body": ({"scenario_type": "condition"}, "condition"),
    "in_needs_a_list": (case(filters=[{"property_name": "genre", "op": "in", "value": "rock"}]), "list"),
    "condition_missing_field": (
        {
            "scenario_type": "condition",
            "condition": {"condition_type": "item_property", "if": {"op": "eq", "value": 1}, "then": "a", "else": "b"},
        },
        "property_name",
    ),
    "routing_outside_generic": (case(reco_type="item_to_items", scenario="x"), "reco_type"),
}


def test_invalid_business_rules_are_wrong_data_type(client: TestClient, auth: Auth) -> None:
    for label, (body, mention) in INVALID.items():
        response = put(client, auth, "bad", body)
        assert response.status_code == 400, label
        assert_error(response, 400, "WRONG_DATA_TYPE", mention)
        assert client.get(url("bad"), headers=auth()).status_code == 404, label
    assert_error(client.put(url("bad name"), json=case(amt=1), headers=auth()), 400, "WRONG_PARAMETER", "name")
    unknown_type = client.put(url("x", "films_to_items"), json=case(amt=1), headers=auth())
    assert_error(unknown_type, 400, "WRONG_PARAMETER", "reco_type")
    unrouted = put(client, auth, "g", case(amt=1), reco_type="generic_input_to_items")
    assert_error(unrouted, 400, "WRONG_DATA_TYPE", "case.reco_type")
    assert put(client, auth, "nulls", {**case(amt=1), "alias": None, "condition": None}).status_code == 200


def test_ab_test_scenarios_cannot_be_replaced(client: TestClient, auth: Auth) -> None:
    ab = {"scenario_type": "ab_test", "ab_test": {"id": "t1", "scenario_a": "a", "scenario_b": "b"}}
    assert put(client, auth, "ab", ab).status_code == 200
    assert_error(put(client, auth, "ab", ab), 400, "WRONG_DATA_TYPE", "ab_test", "'ab'")
    changed = {"scenario_type": "ab_test", "ab_test": {"id": "t1", "scenario_a": "b", "scenario_b": "a"}}
    assert_error(put(client, auth, "ab", changed), 400, "WRONG_DATA_TYPE", "ab_test")
    assert_error(put(client, auth, "ab", case(amt=1)), 400, "WRONG_DATA_TYPE", "ab_test")
    assert client.get(url("ab"), headers=auth()).json()["scenario"] == ab
    assert put(client, auth, "ab", ab, reco_type="item_to_items").status_code == 200  # another reco type's "ab"


def test_flows_cannot_loop(client: TestClient, auth: Auth) -> None:
    assert put(client, auth, "a", alias("b")).status_code == 200
    assert_error(put(client, auth, "b", alias("a")), 400, "WRONG_DATA_TYPE", "loop", "b -> a -> b")
    assert_error(put(client, auth, "self", alias("self")), 400, "WRONG_DATA_TYPE", "loop", "self")
    condition = {
        "scenario_type": "condition",
        "condition": {
            "condition_type": "runtime_param",
            "if": {"param_name": "user_id", "op": "notempty"},
            "then": "leaf",
            "else": "back",
        },
    }
    assert put(client, auth, "cond", condition).status_code == 200
    assert_error(put(client, auth, "back", alias("cond")), 400, "WRONG_DATA_TYPE", "loop", "cond", "back")
    ab = {"scenario_type": "ab_test", "ab_test": {"id": "t", "scenario_a": "leaf", "scenario_b": "via_b"}}
    assert put(client, auth, "ab", ab).status_code == 200
    assert_error(put(client, auth, "via_b", alias("ab")), 400, "WRONG_DATA_TYPE", "loop", "ab", "via_b")
    for name in ("b", "self", "back", "via_b"):
        assert client.get(url(name), headers=auth()).status_code == 404, name
    assert put(client, auth, "b", case(amt=1)).status_code == 200  # the same name as a case closes nothing
    assert put(client, auth, "b", alias("ab")).status_code == 200  # a chain into the A/B test, no loop


def test_filter_ops_are_checked_against_the_catalog_property_kinds(client: TestClient, auth: Auth) -> None:
    load_shop("acme", train=False)
    price_eq = case(filters=[{"property_name": "price", "op": "eq", "value": 3.5}])
    assert put(client, auth, "decimal", price_eq).json() == {"warnings": []}  # exact, as `in` is
    stock_gt = case(filters=[{"property_name": "in_stock", "op": "gt", "value": 1}])
    assert_error(put(client, auth, "bad", stock_gt), 400, "WRONG_OP_USE", "in_stock")
    year_text = case(filters=[{"property_name": "year", "op": "gte", "value": "recent"}])
    assert_error(put(client, auth, "bad", year_text), 400, "WRONG_DATA_TYPE", "year")
    fine = case(
        filters=[
            {"property_name": "year", "op": "eq", "value": 2000},
            {"property_name": "price", "op": "lte", "value": 9.5},
        ]
    )
    assert put(client, auth, "fine", fine).json() == {"warnings": []}
    unknown = put(client, auth, "unknown", case(filters=[{"property_name": "colour", "op": "eq", "value": "red"}]))
    assert unknown.status_code == 200
    assert unknown.json()["warnings"] == ["unknown item property 'colour': no catalog item has it yet"]


def test_a_referenced_scenario_cannot_be_deleted(client: TestClient, auth: Auth) -> None:
    assert put(client, auth, "target", case(amt=1)).status_code == 200
    assert put(client, auth, "pointer", alias("target")).status_code == 200
    assert put(client, auth, "g", case(reco_type=P2I, scenario="target"), reco_type="generic_input_to_items").is_success
    assert_error(client.delete(url("target"), headers=auth()), 400, "SCENARIO_IN_USE", "target", "pointer", "'g'")
    assert client.get(url("target"), headers=auth()).status_code == 200
    assert client.delete(url("pointer"), headers=auth()).status_code in (200, 204)
    assert client.delete(url("g", "generic_input_to_items"), headers=auth()).status_code in (200, 204)
    assert client.delete(url("target"), headers=auth()).status_code in (200, 204)
    assert client.get(url("target"), headers=auth()).status_code == 404


def test_recommendation_errors_of_the_reference(client: TestClient, auth: Auth) -> None:
    load_shop("acme", train=False)
    users = "/recommendation/users/u0/items/"
    not_ready = client.get(users, headers=auth())
    assert_error(not_ready, 503, "DATABASE_NOT_READY", "trained")
    assert not_ready.headers["Retry-After"] == "5"
    load_shop("other")
    h = auth("other")
    assert_error(
        client.get(users, params={"filters": "colour:eq:red"}, headers=h), 404, "ITEM_PROPERTY_NOT_FOUND", "colour"
    )
    assert (
        put(
            client,
            auth,
            "colourful",
            case(filters=[{"property_name": "colour", "op": "eq", "value": "red"}]),
            tenant="other",
        ).status_code
        == 200
    )
    assert_error(
        client.get(users, params={"scenario": "colourful"}, headers=h), 404, "ITEM_PROPERTY_NOT_FOUND", "colour"
    )
    assert (
        client.get(users, params={"filters": "price:eq:3.5"}, headers=h).json()["items_id"] == []
    )  # exact, no such price
    assert_error(client.get(users, params={"filters": "price:gt:true"}, headers=h), 400, "WRONG_DATA_TYPE", "price")
    assert_error(client.get(users, params={"filters": "year:gte:abc"}, headers=h), 400, "WRONG_DATA_TYPE", "year")
    assert_error(client.get(users, params={"amt": 65}, headers=h), 400, "WRONG_PARAMETER", "amt")
    assert_error(client.get(users, params={"filters": "year"}, headers=h), 400, "WRONG_PARAMETER", "year")
    assert_error(client.get(users, params={"cursor": "not-a-cursor"}, headers=h), 400, "WRONG_PARAMETER", "cursor")
    assert_error(client.get(users, params={"scenario": "ghost"}, headers=h), 404, "SCENARIO_NOT_FOUND", "ghost")
    generic = client.post("/recommendation/generic/items/", json={"user_id": "u0"}, headers=h)
    assert_error(generic, 400, "WRONG_PARAMETER", "generic_input_to_items")
    assert_error(
        client.post("/recommendation/generic/items/", json={"amt": "ten"}, headers=h), 400, "WRONG_DATA_TYPE", "amt"
    )
