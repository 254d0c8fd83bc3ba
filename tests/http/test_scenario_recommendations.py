"""Scenario-driven recommendations (/recommendation/…, /scenarios/preview/) on the test shop, through the gateway."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reco.ingestion import ingest_events
from reco.scenarios.engine import ab_variant
from reco.stores.events import event_store
from tests.shop import load_shop, shop_events, shop_items

Auth = Callable[..., dict[str, str]]
P2I, I2I, GENERIC = "profile_to_items", "item_to_items", "generic_input_to_items"
PROPS = {item["id"]: item["properties"] for item in shop_items()}
ALL = set(PROPS)


def ids_where(test: Callable[[dict[str, Any]], bool]) -> set[str]:
    return {item for item, props in PROPS.items() if test(props)}


def genre(name: str) -> dict[str, Any]:
    return {"property_name": "genre", "op": "eq", "value": name}


def case(**fields: Any) -> dict[str, Any]:
    return {"scenario_type": "case", "case": fields}


def put(client: TestClient, auth: Auth, name: str, body: Any, reco_type: str = P2I, tenant: str = "acme") -> None:
    response = client.put(f"/scenarios/{reco_type}/{name}/", json=body, headers=auth(tenant))
    assert response.status_code == 200, response.json()


def condition(kind: str, test: dict[str, Any], then: str, otherwise: str) -> dict[str, Any]:
    body = {"condition_type": kind, "if": test, "then": then, "else": otherwise}
    return {"scenario_type": "condition", "condition": body}


def error_name(response: Any, status: int) -> str:
    assert response.status_code == status, response.json()
    return str(response.json()["error_data"]["name"])


def profile(client: TestClient, auth: Auth, user: str, tenant: str = "acme", **params: Any) -> Any:
    response = client.get(f"/recommendation/users/{user}/items/", params=params, headers=auth(tenant))
    assert response.status_code == 200, response.json()
    return response.json()


def similar(client: TestClient, auth: Auth, item: str, **params: Any) -> Any:
    response = client.get(f"/recommendation/items/{item}/items/", params=params, headers=auth())
    assert response.status_code == 200, response.json()
    return response.json()


def post(client: TestClient, auth: Auth, path: str, body: dict[str, Any]) -> Any:
    response = client.post(f"/recommendation/{path}/items/", json=body, headers=auth())
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.fixture
def shop(client: TestClient) -> TestClient:
    load_shop("acme")
    return client


PREVIEW_EXAMPLE = {  # the reference's EXAMPLE QUERY BODY of POST scenarios/preview/, verbatim
    "scenario": "generic_home_page",
    "user_id": 123456789,
    "preview_scenarios_params": [
        {"name": "home_page", "reco_type": P2I, "scenario": {"scenario_type": "case", "case": {"amt": 10}}},
        {
            "name": "generic_home_page",
            "reco_type": GENERIC,
            "scenario": {"scenario_type": "case", "case": {"reco_type": P2I, "scenario": "home_page"}},
        },
    ],
}
GENERIC_TRACE = [
    {"scenario_type": "case", "scenario_name": "generic_home_page", "case": {"reco_type": P2I, "scenario": "home_page"}}
]
RUNTIME_TRACE = [{"scenario_type": "case", "scenario_name": "home_page", "case": {"amt": 10}}]
RECENT = case(filters=[{"property_name": "year", "op": "gte", "value": 2010}])


def test_preview_example_evaluates_like_the_reference_and_stores_nothing(shop: TestClient, auth: Auth) -> None:
    preview = shop.post("/scenarios/preview/", json=PREVIEW_EXAMPLE, headers=auth())
    assert preview.status_code == 200, preview.json()
    evaluated = preview.json()["evaluated_scenarios"]
    assert evaluated == {"generic_runtime": GENERIC_TRACE, "reco_type": P2I, "runtime": RUNTIME_TRACE}
    assert len(preview.json()["items_id"]) == 10 and preview.json()["next_cursor"]
    assert shop.get("/scenarios/profile_to_items/home_page/", headers=auth()).status_code == 404
    assert shop.get(f"/scenarios/{GENERIC}/generic_home_page/", headers=auth()).status_code == 404
    assert shop.get("/scenarios/", headers=auth()).json()["scenarios"] == []
    # A stored default joins in; a stored scenario of the same name is replaced by the preview's.
    put(shop, auth, "only_recent_movies", RECENT)
    assert shop.patch(f"/scenarios-default/{P2I}/", json={"name": "only_recent_movies"}, headers=auth()).is_success
    put(shop, auth, "home_page", case(amt=3))
    body = shop.post("/scenarios/preview/", json={**PREVIEW_EXAMPLE, "user_id": "u3"}, headers=auth()).json()
    default = [{"scenario_type": "case", "scenario_name": "only_recent_movies", "case": RECENT["case"]}]
    assert list(body["evaluated_scenarios"]) == ["generic_runtime", "reco_type", "runtime", "default"]
    assert body["evaluated_scenarios"]["default"] == default
    assert body["evaluated_scenarios"]["runtime"] == RUNTIME_TRACE
    assert len(body["items_id"]) == 10 and all(PROPS[i]["year"] >= 2010 for i in body["items_id"])
    assert shop.get("/scenarios/profile_to_items/home_page/", headers=auth()).json()["scenario"] == case(amt=3)

    def alias(name: str, target: str) -> dict[str, Any]:
        body = {"scenario_type": "alias", "alias": {"scenario_name": target}}
        return {"name": name, "reco_type": GENERIC, "scenario": body}

    looped = {"scenario": "x", "preview_scenarios_params": [alias("x", "y"), alias("y", "x")]}
    response = shop.post("/scenarios/preview/", json=looped, headers=auth())
    assert error_name(response, 400) == "WRONG_DATA_TYPE" and "x -> y -> x" in response.json()["message"]
    too_many = {
        **PREVIEW_EXAMPLE,
        "preview_scenarios_params": [{"name": "home_page", "reco_type": P2I, "scenario": case(amt=65)}],
    }
    assert error_name(shop.post("/scenarios/preview/", json=too_many, headers=auth()), 400) == "WRONG_DATA_TYPE"
    missing = shop.post("/scenarios/preview/", json={"scenario": "nowhere"}, headers=auth())
    assert error_name(missing, 404) == "SCENARIO_NOT_FOUND" and "nowhere" in missing.json()["message"]


def test_each_reco_type_endpoint_runs_its_scenario(shop: TestClient, auth: Auth) -> None:
    jazz, folk = ids_where(lambda p: p["genre"] == "jazz"), ids_where(lambda p: p["genre"] == "folk")
    put(shop, auth, "jazz", case(filters=[genre("jazz")]), reco_type=I2I)
    assert set(similar(shop, auth, "i0", scenario="jazz", amt=64)["items_id"]) == jazz
    assert set(similar(shop, auth, "i1", scenario="jazz", amt=64)["items_id"]) == jazz - {"i1"}  # never itself
    put(shop, auth, "recent_rock", case(filters=[genre("rock"), {"property_name": "year", "op": "gte", "value": 2000}]))
    recent_rock = ids_where(lambda p: p["genre"] == "rock" and p["year"] >= 2000)
    assert set(profile(shop, auth, "u1", scenario="recent_rock", amt=64)["items_id"]) == recent_rock
    put(shop, auth, "folk", case(filters=[genre("folk")]), reco_type="session_to_items")
    interactions = [{"item_id": "i1", "interaction_type": "view"}, {"item_id": "i5", "interaction_type": "purchase"}]
    for sent in ({"interactions": interactions}, {"ratings": [{"item_id": "i2", "rating": 9}]}, {"session_id": "s1"}):
        body = post(shop, auth, "sessions", {**sent, "scenario": "folk", "amt": 64})
        assert set(body["items_id"]) == folk and body["evaluated_scenarios"]["reco_type"] == "session_to_items"
        assert ("trending" in " ".join(body["warnings"])) == ("session_id" in sent)  # no history: trending
    for both in ({"interactions": interactions}, {"session_id": "s1"}):
        refused = shop.post(
            "/recommendation/sessions/items/",
            json={**both, "ratings": [{"item_id": "i2", "rating": 9}]},
            headers=auth(),
        )
        assert error_name(refused, 400) == "WRONG_PARAMETER" and "ratings" in refused.json()["message"]
    put(shop, auth, "to_similar", case(reco_type=I2I, scenario="jazz"), reco_type=GENERIC)
    body = post(shop, auth, "generic", {"scenario": "to_similar", "item_id": "i0", "amt": 5})
    assert body["evaluated_scenarios"]["reco_type"] == I2I and set(body["items_id"]) <= jazz
    assert body["items_id"] == similar(shop, auth, "i0", scenario="jazz", amt=5)["items_id"]
    assert shop.patch(f"/scenarios-default/{GENERIC}/", json={"name": "to_similar"}, headers=auth()).is_success
    by_default = post(shop, auth, "generic", {"item_id": "i0", "amt": 5})
    assert list(by_default["evaluated_scenarios"]) == ["generic_default", "reco_type", "runtime"]
    assert by_default["items_id"] == body["items_id"]


def test_request_filters_add_to_scenario_filters_in_url_forms(shop: TestClient, auth: Auth) -> None:
    put(shop, auth, "rock", case(filters=[genre("rock")]))
    put(shop, auth, "rock", case(filters=[genre("rock")]), reco_type="session_to_items")
    found = profile(shop, auth, "u1", scenario="rock", filters="year:gte:2000", amt=64)["items_id"]
    assert set(found) == ids_where(lambda p: p["genre"] == "rock" and p["year"] >= 2000)
    found = profile(shop, auth, "u1", filters='genre:in:["rock","jazz"]', amt=64)["items_id"]
    assert set(found) == ids_where(lambda p: p["genre"] in ("rock", "jazz"))
    more_forms = {
        "tags:notempty": lambda p: bool(p["tags"]),
        "tags:empty": lambda p: not p["tags"],
        "title:ftsearch:ROCK": lambda p: p["genre"] == "rock",
        "year:in:[2000,2001]": lambda p: p["year"] in (2000, 2001),
        'genre:notin:["rock"]': lambda p: p["genre"] != "rock",
    }
    for text, test in more_forms.items():
        assert set(profile(shop, auth, "u1", filters=text, amt=64)["items_id"]) == ids_where(test), text
    found = profile(shop, auth, "u1", filters=["genre:eq:rock", "in_stock:eq:false", "price:lt:40.5"], amt=64)
    expected = ids_where(lambda p: p["genre"] == "rock" and not p["in_stock"] and p["price"] < 40.5)
    assert set(found["items_id"]) == expected and expected
    body = post(
        shop,
        auth,
        "sessions",
        {"scenario": "rock", "filters": [{"property_name": "tags", "op": "in", "value": ["live"]}], "amt": 64},
    )
    assert set(body["items_id"]) == ids_where(lambda p: p["genre"] == "rock" and "live" in p["tags"])
    for bad in ("genre:like:rock", ":eq:rock", "genre", 'genre:in:"rock"', "year:gte"):
        response = shop.get("/recommendation/users/u1/items/", params={"filters": bad}, headers=auth())
        assert error_name(response, 400) == "WRONG_PARAMETER" and bad in response.json()["message"], bad


def test_diversity_pushes_repeated_genres_down(shop: TestClient, auth: Auth) -> None:
    plain = profile(shop, auth, "u0", amt=8)["items_id"]
    assert len({PROPS[i]["genre"] for i in plain[:4]}) < 4  # u0 likes rock: its top items share a genre
    put(shop, auth, "diverse", case(reranking=[{"property_name": "genre", "op": "diversity", "weight": 5}]))
    for params in ({"scenario": "diverse"}, {"reranking": "genre:diversity:5"}):
        diverse = profile(shop, auth, "u0", amt=8, **params)["items_id"]
        assert len({PROPS[i]["genre"] for i in diverse[:4]}) == 4, params
        assert diverse[0] == plain[0] and set(diverse) != set(plain)
    response = shop.get("/recommendation/users/u0/items/", params={"reranking": "genre:shuffle"}, headers=auth())
    assert error_name(response, 400) == "WRONG_PARAMETER"


def test_exclusions_use_the_requesters_history(shop: TestClient, auth: Auth) -> None:
    events = [e for e in shop_events() if e["user_id"] == "u0"]
    seen = {e["item_id"] for e in events}
    bought = {e["item_id"] for e in events if e["type"] == "purchase"}
    assert bought and seen - bought
    assert set(profile(shop, auth, "u0", amt=64)["items_id"]) == ALL
    put(shop, auth, "unseen", case(exclude_rated_items=True))
    assert set(profile(shop, auth, "u0", scenario="unseen", amt=64)["items_id"]) == ALL - seen
    assert set(profile(shop, auth, "u0", scenario="unseen", amt=64, exclude_rated_items=False)["items_id"]) == ALL
    assert set(profile(shop, auth, "u0", amt=64, exclude_rated_items=True)["items_id"]) == ALL - seen
    put(shop, auth, "not_bought", case(exclude_items_with_interaction_types=["purchase"]))
    assert set(profile(shop, auth, "u0", scenario="not_bought", amt=64)["items_id"]) == ALL - bought
    by_genre = [{"property_name": "genre", "interaction_types": ["purchase"]}]
    put(shop, auth, "other_genres", case(exclude_props_of_items_with_interaction_types=by_genre))
    bought_genres = {PROPS[i]["genre"] for i in bought}
    found = profile(shop, auth, "u0", scenario="other_genres", amt=64)["items_id"]
    assert set(found) == ids_where(lambda p: p["genre"] not in bought_genres) and len(found) == 45


def test_case_sequence_concatenates_blocks_without_duplicates(shop: TestClient, auth: Auth) -> None:
    rock_then_jazz = {"sequence": [{"amt": 2, "filters": [genre("rock")]}, {"filters": [genre("jazz")]}]}
    put(shop, auth, "blocks", case(amt=6, case_sequence=rock_then_jazz))
    found = profile(shop, auth, "u1", scenario="blocks")["items_id"]
    assert [PROPS[i]["genre"] for i in found] == ["rock"] * 2 + ["jazz"] * 4
    assert found[:2] == profile(shop, auth, "u1", filters="genre:eq:rock", amt=2)["items_id"]
    assert found[2:] == profile(shop, auth, "u1", filters="genre:eq:jazz", amt=4)["items_id"]
    put(
        shop, auth, "rock_first", case(amt=10, case_sequence={"sequence": [{"amt": 3, "filters": [genre("rock")]}, {}]})
    )
    found = profile(shop, auth, "u1", scenario="rock_first")["items_id"]
    assert len(found) == len(set(found)) == 10 and {PROPS[i]["genre"] for i in found[:3]} == {"rock"}


def test_user_property_filter_values_read_the_requester(shop: TestClient, auth: Auth) -> None:
    favourite = {"property_name": "genre", "op": "eq", "value": {"type": "user_property", "value": "favourite"}}
    put(shop, auth, "favourite", case(amt=8, filters=[favourite]))
    put(shop, auth, "favourite", case(amt=8, filters=[favourite]), reco_type="session_to_items")
    for user, liked in (("u1", "jazz"), ("u2", "pop"), ("u7", "folk")):
        found = profile(shop, auth, user, scenario="favourite")["items_id"]
        assert len(found) == 8 and {PROPS[i]["genre"] for i in found} == {liked}, user
    sent = post(shop, auth, "sessions", {"scenario": "favourite", "user_properties": {"favourite": "pop"}})
    assert {PROPS[i]["genre"] for i in sent["items_id"]} == {"pop"}
    unset = post(shop, auth, "sessions", {"scenario": "favourite", "session_id": "s1"})
    assert len({PROPS[i]["genre"] for i in unset["items_id"]}) > 1  # not set: the filter is skipped, with a warning
    assert any("favourite" in w for w in unset["warnings"])


def test_ab_test_assigns_each_user_one_variant(shop: TestClient, auth: Auth) -> None:
    put(shop, auth, "sa", case(amt=4, filters=[genre("rock")]))
    put(shop, auth, "sb", case(amt=4, filters=[genre("jazz")]))
    put(
        shop,
        auth,
        "ab",
        {"scenario_type": "ab_test", "ab_test": {"id": "exp-1", "scenario_a": "sa", "scenario_b": "sb"}},
    )
    seen = set()
    for user in [f"u{k}" for k in range(12)]:
        variant = ab_variant("exp-1", user).lower()
        seen.add(variant)
        first, again = (profile(shop, auth, user, scenario="ab") for _ in range(2))
        runtime = first["evaluated_scenarios"]["runtime"]
        assert runtime[0] == {"scenario_type": "ab_test", "scenario_name": "ab", "to": f"scenario_{variant}"}, user
        assert runtime[1]["scenario_name"] == f"s{variant}" and again == {**first, "next_cursor": again["next_cursor"]}
        assert {PROPS[i]["genre"] for i in first["items_id"]} == {"rock" if variant == "a" else "jazz"}
    assert seen == {"a", "b"}


def test_conditions_route_on_user_runtime_and_item_facts(shop: TestClient, auth: Auth) -> None:
    put(shop, auth, "rock", case(filters=[genre("rock")]))
    put(shop, auth, "jazz", case(filters=[genre("jazz")]))
    n_interactions = {"function_name": "n_interactions", "op": "gte"}
    put(shop, auth, "busy8", condition("user_function", {**n_interactions, "value": 8}, "rock", "jazz"))
    put(shop, auth, "busy9", condition("user_function", {**n_interactions, "value": 9}, "rock", "jazz"))
    for user, name, expected in (("u0", "busy8", "then"), ("stranger", "busy8", "else"), ("u0", "busy9", "else")):
        body = profile(shop, auth, user, scenario=name, amt=5)
        assert body["evaluated_scenarios"]["runtime"][0]["to"] == expected, (user, name)
        assert {PROPS[i]["genre"] for i in body["items_id"]} == {"rock" if expected == "then" else "jazz"}
    put(shop, auth, "g_profile", case(reco_type=P2I, scenario="rock"), reco_type=GENERIC)
    put(shop, auth, "g_session", case(reco_type="session_to_items"), reco_type=GENERIC)
    has_user = condition("runtime_param", {"param_name": "user_id", "op": "notempty"}, "g_profile", "g_session")
    put(shop, auth, "who", has_user, reco_type=GENERIC)
    known = post(shop, auth, "generic", {"scenario": "who", "user_id": "u1"})
    assert known["evaluated_scenarios"]["generic_runtime"][0]["to"] == "then"
    assert known["evaluated_scenarios"]["reco_type"] == P2I and {PROPS[i]["genre"] for i in known["items_id"]} == {
        "rock"
    }
    anonymous = post(
        shop, auth, "generic", {"scenario": "who", "interactions": [{"item_id": "i1", "interaction_type": "view"}]}
    )
    assert anonymous["evaluated_scenarios"]["generic_runtime"][0]["to"] == "else"
    assert anonymous["evaluated_scenarios"]["reco_type"] == "session_to_items"
    put(shop, auth, "rock", case(filters=[genre("rock")]), reco_type=I2I)
    put(shop, auth, "jazz", case(filters=[genre("jazz")]), reco_type=I2I)
    put(
        shop,
        auth,
        "by_item",
        condition("item_property", {"property_name": "genre", "op": "eq", "value": "rock"}, "jazz", "rock"),
        reco_type=I2I,
    )
    put(
        shop,
        auth,
        "by_tags",
        condition("item_property", {"property_name": "tags", "op": "in", "value": ["live"]}, "jazz", "rock"),
        reco_type=I2I,
    )
    for item, name, expected in (
        ("i0", "by_item", "jazz"),
        ("i1", "by_item", "rock"),
        ("i3", "by_tags", "jazz"),
        ("i1", "by_tags", "rock"),
    ):
        body = similar(shop, auth, item, scenario=name, amt=5)
        assert {PROPS[i]["genre"] for i in body["items_id"]} == {expected}, (item, name)


def test_cursor_pages_concatenate_to_one_list(shop: TestClient, auth: Auth) -> None:
    for params, total in (({}, 20), ({"filters": "genre:eq:rock"}, 15), ({"reranking": "genre:diversity:1"}, 20)):
        pages: list[str] = []
        query: dict[str, Any] = {"amt": 5, **params}
        while len(pages) < total:
            body = profile(shop, auth, "u0", **query)
            pages += body["items_id"]
            query["cursor"] = body["next_cursor"]
            if query["cursor"] is None:
                break
        assert pages == profile(shop, auth, "u0", amt=total, **params)["items_id"], params
        assert len(set(pages)) == total
    first, ten = profile(shop, auth, "u0", amt=5), profile(shop, auth, "u0", amt=10)["items_id"]
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    elsewhere = sorted(ids_where(lambda p: p["genre"] == "jazz") - set(ten))[:6]  # u0 likes rock
    bought = [
        {"event_id": f"n{i}", "user_id": "u0", "item_id": i, "type": "purchase", "timestamp": now} for i in elsewhere
    ]
    assert ingest_events("acme", bought, event_store()).accepted == 6
    resumed = profile(shop, auth, "u0", amt=5, cursor=first["next_cursor"])["items_id"]
    assert first["items_id"] + resumed == ten  # later pages see the history of the first one
    assert profile(shop, auth, "u0", amt=10)["items_id"] != ten  # new requests see the new events
    last = profile(shop, auth, "u0", amt=15, filters="genre:eq:rock")
    assert last["next_cursor"] is None and len(last["items_id"]) == 15
    cursor = profile(shop, auth, "u0", amt=5)["next_cursor"]
    load_shop("other")
    for user, tenant, amt in (("u1", "acme", 5), ("u0", "acme", 6), ("u0", "other", 5)):
        params = {"amt": amt, "cursor": cursor}
        response = shop.get(f"/recommendation/users/{user}/items/", params=params, headers=auth(tenant))
        assert error_name(response, 400) == "WRONG_PARAMETER" and "cursor" in response.json()["message"]


def test_an_empty_page_has_no_next_cursor(shop: TestClient, auth: Auth) -> None:
    body = profile(shop, auth, "u0", amt=0)
    assert body["items_id"] == []
    assert body["next_cursor"] is None


def test_request_over_runtime_over_default_scenario(shop: TestClient, auth: Auth) -> None:
    put(shop, auth, "recent", case(amt=3, filters=[{"property_name": "year", "op": "gte", "value": 2000}]))
    assert shop.patch(f"/scenarios-default/{P2I}/", json={"name": "recent"}, headers=auth()).is_success
    put(shop, auth, "rock", case(amt=4, filters=[genre("rock")]))
    recent_rock = ids_where(lambda p: p["genre"] == "rock" and p["year"] >= 2000)
    assert len(profile(shop, auth, "u1")["items_id"]) == 3
    found = profile(shop, auth, "u1", scenario="rock")["items_id"]
    assert len(found) == 4 and set(found) <= recent_rock
    assert set(profile(shop, auth, "u1", scenario="rock", amt=20)["items_id"]) == recent_rock
    skipped = profile(shop, auth, "u1", scenario="rock", amt=20, skip_default_scenario=True)
    assert set(skipped["items_id"]) == ids_where(lambda p: p["genre"] == "rock")
    assert list(skipped["evaluated_scenarios"]) == ["reco_type", "runtime"]


def test_cache_control_max_age_sets_the_header(shop: TestClient, auth: Auth) -> None:
    put(shop, auth, "cached", case(cache_control={"max_age": 120}))
    response = shop.get("/recommendation/users/u0/items/", params={"scenario": "cached"}, headers=auth())
    assert response.status_code == 200 and response.headers["Cache-Control"] == "max-age=120"
    plain = shop.get("/recommendation/users/u0/items/", headers=auth())
    assert "max-age=120" not in plain.headers.get("Cache-Control", "")


def test_tenants_neither_read_nor_use_each_others_scenarios(shop: TestClient, auth: Auth) -> None:
    load_shop("other")
    put(shop, auth, "secret", case(filters=[genre("rock")]))
    assert shop.patch(f"/scenarios-default/{P2I}/", json={"name": "secret"}, headers=auth()).is_success
    assert {PROPS[i]["genre"] for i in profile(shop, auth, "u1")["items_id"]} == {"rock"}  # acme's default applies
    other = auth("other")
    assert error_name(shop.get(f"/scenarios/{P2I}/secret/", headers=other), 404) == "SCENARIO_NOT_FOUND"
    assert shop.get("/scenarios/", headers=other).json()["scenarios"] == []
    assert error_name(shop.get(f"/scenarios-default/{P2I}/", headers=other), 404) == "SCENARIO_NOT_FOUND"
    used = shop.get("/recommendation/users/u1/items/", params={"scenario": "secret"}, headers=other)
    assert error_name(used, 404) == "SCENARIO_NOT_FOUND"
    body = profile(shop, auth, "u1", tenant="other")
    assert body["evaluated_scenarios"] == {"reco_type": P2I} and len({PROPS[i]["genre"] for i in body["items_id"]}) > 1
    assert error_name(shop.delete(f"/scenarios/{P2I}/secret/", headers=other), 404) == "SCENARIO_NOT_FOUND"
    assert shop.get(f"/scenarios/{P2I}/secret/", headers=auth()).status_code == 200
