"""What a request sends beyond ids shapes its list: item_properties, context_items, user_properties.

Also the filter and condition semantics of the scenarios reference: eq/neq on decimal numbers,
n_ratings counting ratings only, and an empty-string property value counting as empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import numpy as np
import pytest
from fastapi.testclient import TestClient

from reco.ingestion import ingest_events, ingest_items, ingest_users
from reco.services.recommendations import recommendation_services
from reco.stores.catalog import catalog_store
from reco.stores.events import event_store
from tests.shop import load_shop, shop_items, train_shop

Auth = Callable[..., dict[str, str]]
P2I, GENERIC = "profile_to_items", "generic_input_to_items"
PROPS = {item["id"]: item["properties"] for item in shop_items()}


def ids_where(test: Callable[[dict[str, Any]], bool]) -> set[str]:
    return {item for item, props in PROPS.items() if test(props)}


def put(client: TestClient, auth: Auth, name: str, body: Any, reco_type: str = P2I) -> None:
    response = client.put(f"/scenarios/{reco_type}/{name}/", json=body, headers=auth())
    assert response.status_code == 200, response.json()


def case(**fields: Any) -> dict[str, Any]:
    return {"scenario_type": "case", "case": fields}


def generic(client: TestClient, auth: Auth, body: dict[str, Any], status: int = 200) -> Any:
    response = client.post("/recommendation/generic/items/", json=body, headers=auth())
    assert response.status_code == status, response.json()
    return response.json()


def popularity() -> dict[str, float]:
    artifact = recommendation_services().models.serving("acme", None).artifact
    return dict(zip(artifact.item_ids.tolist(), artifact.popularity.tolist(), strict=True))


def by_popularity(items: set[str], scores: dict[str, float]) -> list[str]:
    return sorted(items, key=lambda i: (-scores[i], i))


@pytest.fixture
def shop(client: TestClient) -> TestClient:
    load_shop("acme")
    return client


def test_item_properties_to_items_ranks_items_by_matched_values_then_popularity(shop: TestClient, auth: Auth) -> None:
    put(shop, auth, "category_page", case(reco_type="item_properties_to_items"), reco_type=GENERIC)
    scores = popularity()
    jazz = ids_where(lambda p: p["genre"] == "jazz")
    page = generic(shop, auth, {"scenario": "category_page", "item_properties": {"genre": "jazz"}, "amt": 64})
    assert page["evaluated_scenarios"]["reco_type"] == "item_properties_to_items"
    assert page["items_id"] == by_popularity(jazz, scores) and page["warnings"] == []
    # Two values: items holding both first, then those holding one, each block by popularity.
    both = {"genre": "jazz", "in_stock": False}
    body = generic(shop, auth, {"scenario": "category_page", "item_properties": both, "amt": 64})
    out_of_stock = ids_where(lambda p: not p["in_stock"])
    assert body["items_id"] == [
        *by_popularity(jazz & out_of_stock, scores),
        *by_popularity(jazz ^ out_of_stock, scores),
    ]
    # A list is "any of"; an array property matches on any element; scenario filters still hold.
    put(
        shop,
        auth,
        "recent",
        case(filters=[{"property_name": "year", "op": "gte", "value": 2000}]),
        "item_properties_to_items",
    )
    put(shop, auth, "recent_page", case(reco_type="item_properties_to_items", scenario="recent"), reco_type=GENERIC)
    live = {"genre": ["jazz", "folk"], "tags": "live"}
    body = generic(shop, auth, {"scenario": "recent_page", "item_properties": live, "amt": 64})
    wanted = ids_where(lambda p: p["year"] >= 2000 and (p["genre"] in ("jazz", "folk") or "live" in p["tags"]))
    assert set(body["items_id"]) == wanted
    # Unknown properties and empty values are ignored, with a warning; nothing matching: popular items, flagged.
    odd = {"genre": "jazz", "colour": "red", "label": ""}
    body = generic(shop, auth, {"scenario": "category_page", "item_properties": odd, "amt": 3})
    assert body["items_id"] == by_popularity(jazz, scores)[:3]
    assert any("'colour'" in w for w in body["warnings"]) and any("'label'" in w for w in body["warnings"])
    nothing = generic(shop, auth, {"scenario": "category_page", "item_properties": {"genre": "polka"}, "amt": 3})
    assert nothing["items_id"] == by_popularity(set(PROPS), scores)[:3]
    assert "no item matches item_properties: popular items shown" in nothing["warnings"]
    missing = generic(shop, auth, {"scenario": "category_page"}, status=400)
    assert missing["error_data"]["name"] == "WRONG_PARAMETER" and "item_properties" in missing["message"]


def z_scores(values: np.ndarray) -> np.ndarray:
    as_float = np.asarray(values, dtype=np.float64)
    return np.asarray((as_float - as_float.mean()) / as_float.std())


def test_context_items_shape_w_ctx_items_results_and_are_never_returned(shop: TestClient, auth: Auth) -> None:
    put(shop, auth, "cart_aware", case(reco_type="profile_to_items_w_ctx_items"), reco_type=GENERIC)
    plain = generic(shop, auth, {"scenario": "cart_aware", "user_id": "u0", "amt": 10})
    top = plain["items_id"][0]
    cart = [top, "i1", "i5", "i9"]
    sent = [{"item_id": top}, {"item_id": "i1"}, {"item_id": "i5", "quantity": 2}, {"item_id": "i9"}]
    shaped = generic(shop, auth, {"scenario": "cart_aware", "user_id": "u0", "amt": 10, "context_items": sent})
    assert shaped["evaluated_scenarios"]["reco_type"] == "profile_to_items_w_ctx_items"
    # The documented blend: the profile's and the cart's scores as z-scores, equal weights; the cart left out.
    artifact = recommendation_services().models.serving("acme", None).artifact
    rows = artifact.item_rows(cart)
    profile = artifact.model.user_scores(artifact.user_row("u#u0"))
    similarity = artifact.model.user_scores(None, (rows, np.ones(len(rows), dtype=np.float32)))
    blended = (z_scores(profile) + z_scores(similarity)).astype(np.float32)
    blended[rows] = -np.inf
    expected = artifact.item_ids[np.lexsort((np.arange(len(blended)), -blended))][:10].tolist()
    assert shaped["items_id"] == expected
    assert not set(cart) & set(shaped["items_id"]) and shaped["items_id"] != plain["items_id"][1:11]
    unknown = generic(
        shop, auth, {"scenario": "cart_aware", "user_id": "u0", "amt": 10, "context_items": [{"item_id": "ghost"}]}
    )
    assert unknown["items_id"] == plain["items_id"]
    assert unknown["warnings"] == ["context items unknown to the serving model were skipped: 'ghost'"]
    # A session's list too: the session's history and the cart blend.
    put(shop, auth, "session_cart", case(reco_type="session_to_items_w_ctx_items"), reco_type=GENERIC)
    views = [{"item_id": "i0", "interaction_type": "view"}, {"item_id": "i4", "interaction_type": "view"}]
    alone = generic(shop, auth, {"scenario": "session_cart", "interactions": views, "amt": 5})
    with_cart = generic(
        shop, auth, {"scenario": "session_cart", "interactions": views, "amt": 5, "context_items": [{"item_id": "i3"}]}
    )
    assert alone["items_id"] != with_cart["items_id"] and "i3" not in with_cart["items_id"]
    bad = generic(shop, auth, {"scenario": "cart_aware", "user_id": "u0", "context_items": [{"sku": "i1"}]}, 400)
    assert "item_id" in str(bad)


def test_an_unknown_user_with_properties_gets_what_similar_users_liked(shop: TestClient, auth: Auth) -> None:
    folk = ids_where(lambda p: p["genre"] == "folk")
    sent = shop.post(
        "/recommendation/sessions/items/", json={"user_properties": {"favourite": "folk"}, "amt": 8}, headers=auth()
    )
    assert sent.status_code == 200, sent.json()
    assert set(sent.json()["items_id"]) <= folk
    assert sent.json()["warnings"] == [
        "session with no recent events: items most popular among the 7 users with favourite='folk' shown"
    ]
    # A stored user the model has never seen (signed up, no events yet): their stored properties count.
    assert not ingest_users("acme", [{"id": "newbie", "properties": {"favourite": "jazz"}}], catalog_store()).rejected
    before = boto3.resource("dynamodb").Table("DecisionsTable").scan()["Count"]
    newbie = shop.get("/recommendation/users/newbie/items/", params={"amt": 8}, headers=auth())
    assert newbie.status_code == 200 and set(newbie.json()["items_id"]) <= ids_where(lambda p: p["genre"] == "jazz")
    assert "favourite='jazz'" in newbie.json()["warnings"][0]
    decisions = boto3.resource("dynamodb").Table("DecisionsTable").scan()["Items"]
    assert len(decisions) == before + 1
    assert [d.get("fallback") for d in decisions if d.get("user_id") == "newbie"] == ["popular_with_similar_users"]
    # Empty or unknown values: nobody shares them, trending as before.
    for properties in ({"favourite": ""}, {"favourite": "polka"}, {"shoe_size": 42}):
        body = shop.post("/recommendation/sessions/items/", json={"user_properties": properties}, headers=auth())
        assert body.json()["warnings"] == ["session with no recent events: trending items shown"], properties


def test_eq_and_neq_on_decimal_prices_compare_exactly(shop: TestClient, auth: Auth) -> None:
    price = PROPS["i7"]["price"]
    assert price != int(price)
    same = ids_where(lambda p: p["price"] == price)
    response = shop.get(
        "/recommendation/users/u1/items/", params={"filters": f"price:eq:{price}", "amt": 64}, headers=auth()
    )
    assert response.status_code == 200, response.json()
    assert set(response.json()["items_id"]) == same
    put(shop, auth, "not_that_price", case(filters=[{"property_name": "price", "op": "neq", "value": price}]))
    other = shop.get(
        "/recommendation/users/u1/items/", params={"scenario": "not_that_price", "amt": 64}, headers=auth()
    )
    assert set(other.json()["items_id"]) == set(PROPS) - same


def test_n_ratings_counts_ratings_not_views(shop: TestClient, auth: Auth) -> None:
    put(shop, auth, "rock", case(filters=[{"property_name": "genre", "op": "eq", "value": "rock"}]))
    put(shop, auth, "jazz", case(filters=[{"property_name": "genre", "op": "eq", "value": "jazz"}]))
    rated = {"condition_type": "user_function", "if": {"function_name": "n_ratings", "op": "gte", "value": 1}}
    put(shop, auth, "raters", {"scenario_type": "condition", "condition": {**rated, "then": "rock", "else": "jazz"}})

    def route(user: str) -> str:
        body = shop.get(f"/recommendation/users/{user}/items/", params={"scenario": "raters"}, headers=auth()).json()
        return str(body["evaluated_scenarios"]["runtime"][0]["to"])

    assert route("u0") == "else"  # 8 views and purchases, no rating
    rating = {"event_id": "r-u0", "user_id": "u0", "item_id": "i0", "type": "rating", "value": 5}
    assert not ingest_events("acme", [rating], event_store()).rejected
    assert route("u0") == "then"


def test_an_empty_string_property_counts_as_empty(client: TestClient, auth: Auth) -> None:
    load_shop("acme", train=False)
    blank = {"id": "blank", "properties": {"genre": "", "year": 2001, "price": 1.5, "in_stock": True, "tags": [""]}}
    assert not ingest_items("acme", [blank], catalog_store()).rejected
    train_shop("acme")
    users = "/recommendation/users/u1/items/"
    h = auth()
    empty = client.get(users, params={"filters": "genre:empty", "amt": 64}, headers=h).json()
    assert empty["items_id"] == ["blank"]  # every shop item has a genre
    untagged = ids_where(lambda p: not p["tags"])
    assert (
        "blank" not in client.get(users, params={"filters": "genre:notempty", "amt": 64}, headers=h).json()["items_id"]
    )
    tags = client.get(users, params={"filters": "tags:empty", "amt": 64}, headers=h).json()["items_id"]
    assert set(tags) == untagged | {"blank"}
    below = client.get(users, params={"filters": "genre:lt:b", "amt": 64}, headers=h).json()["items_id"]
    assert "blank" not in below  # "" is no value, not a string before "b"
    assert np.all([PROPS[i]["genre"] < "b" for i in below])
