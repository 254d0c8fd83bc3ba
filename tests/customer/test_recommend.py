"""POST /api/recommend/recommend on a small shop: the reference's examples, each template, preferences, scores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from reco.services.serving import model_cache
from tests.customer.catalog import CATEGORIES, NUMBERS, item_id, load_customer_shop, properties_by_id

Auth = Callable[..., dict[str, str]]
PATH = "/api/recommend/recommend"
# The two bodies of the reference document, as written there.
REFERENCE_BODY = {
    "sequence_data": {
        "customer_preferences": {"categories": ["electronics", "books"], "price_range": {"min": 50, "max": 500}},
        "browsing_history": ["product_123", "product_456"],
        "purchase_history": ["product_789"],
    },
    "task": "product_recommendation",
    "template": "personalized",
}
REFERENCE_CURL_BODY = {
    "sequence_data": {"customer_preferences": {"categories": ["electronics"]}},
    "task": "product_recommendation",
    "template": "personalized",
}
PROPS = properties_by_id()


@pytest.fixture
def shop(client: TestClient) -> Iterator[TestClient]:
    load_customer_shop("acme")
    yield client


def recommend(client: TestClient, auth: Auth, template: str, tenant: str = "acme", **sequence: Any) -> Any:
    body = {"sequence_data": sequence, "task": "product_recommendation", "template": template}
    limit = sequence.pop("limit", None)
    if limit is not None:
        body["limit"] = limit
    response = client.post(PATH, json=body, headers=auth(tenant, "frontend"))
    assert response.status_code == 200, response.text
    return response.json()


def ids(body: Any) -> list[Any]:
    return [r["recommendation_id"] for r in body["results"]]


def category(item: str) -> str:
    return str(PROPS[item]["category"])


def assert_well_formed(body: Any, size: int, id_type: type) -> None:
    assert set(body) == {"status_code", "results"} and body["status_code"] == 200
    results = body["results"]
    assert len(results) == size
    assert [r["rank"] for r in results] == list(range(1, size + 1))
    scores = [r["score"] for r in results]
    assert all(set(r) == {"recommendation_id", "score", "rank"} for r in results)
    assert all(
        isinstance(r["recommendation_id"], id_type) and not isinstance(r["recommendation_id"], bool) for r in results
    )
    assert all(isinstance(s, float) and 0.0 <= s <= 1.0 and round(s, 4) == s for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert len(set(ids(body))) == size


def test_reference_bodies_with_integer_catalog_ids_answer_integers(client: TestClient, auth: Auth) -> None:
    load_customer_shop("ints", integer_ids=True)
    for body in (REFERENCE_BODY, REFERENCE_CURL_BODY):
        response = client.post(PATH, json=body, headers=auth("ints", "backend"))
        assert response.status_code == 200, response.text
        assert_well_formed(response.json(), 10, int)
        assert set(ids(response.json())) <= set(NUMBERS)
    # Integer ids in the histories are the ids they spell: the purchase of 124 excludes item "124".
    sequence = {"browsing_history": [124, "125"], "purchase_history": [124]}
    found = recommend(client, auth, "personalized", "ints", **sequence, limit=100)
    assert 124 not in ids(found) and len(ids(found)) == len(NUMBERS) - 1


def test_reference_bodies_with_string_catalog_ids_answer_strings(shop: TestClient, auth: Auth) -> None:
    first = shop.post(PATH, json=REFERENCE_BODY, headers=auth("acme", "backend")).json()
    assert_well_formed(first, 10, str)
    assert "product_789" not in ids(first)  # purchased
    assert all(50 <= PROPS[i]["price"] <= 500 for i in ids(first))
    assert all(category(i) in ("electronics", "books") for i in ids(first))
    second = shop.post(PATH, json=REFERENCE_CURL_BODY, headers=auth("acme", "backend")).json()
    assert_well_formed(second, 10, str)
    assert all(category(i) == "electronics" for i in ids(second))
    assert first["results"][0]["score"] == second["results"][0]["score"] == 1.0


def test_trending_is_the_artifacts_trending_order(shop: TestClient, auth: Auth) -> None:
    artifact = model_cache().serving("acme").artifact
    order = np.lexsort((np.arange(len(artifact.item_ids)), -artifact.trending.astype(np.float64)))
    expected = artifact.item_ids[order[:15]].tolist()
    body = recommend(shop, auth, "trending", limit=15)
    assert ids(body) == expected
    trend = artifact.trending.astype(np.float64)
    low, high = trend.min(), trend.max()
    rows = order[:15]
    assert [r["score"] for r in body["results"]] == [round(float((trend[r] - low) / (high - low)), 4) for r in rows]


def test_personalized_follows_the_histories_and_purchases_weigh_more(shop: TestClient, auth: Auth) -> None:
    books = [item_id(n) for i, n in enumerate(NUMBERS) if CATEGORIES[i % 4] == "books"]
    viewed = recommend(shop, auth, "personalized", browsing_history=books[:3])
    assert sum(category(i) == "books" for i in ids(viewed)[:5]) >= 4
    garden = [item_id(n) for i, n in enumerate(NUMBERS) if CATEGORIES[i % 4] == "garden"]
    # One garden item viewed, one book bought: the purchase (weight 5) outweighs the view (weight 1).
    mixed = recommend(shop, auth, "personalized", browsing_history=garden[:1], purchase_history=books[:1])
    assert category(ids(mixed)[0]) == "books"
    assert books[0] not in ids(mixed)
    swapped = recommend(shop, auth, "personalized", browsing_history=books[1:2], purchase_history=garden[:1])
    assert category(ids(swapped)[0]) == "garden"


def test_personalized_without_history_is_trending(shop: TestClient, auth: Auth) -> None:
    assert ids(recommend(shop, auth, "personalized")) == ids(recommend(shop, auth, "trending"))
    unknown = recommend(shop, auth, "personalized", browsing_history=["nope-1", "nope-2"])
    assert ids(unknown) == ids(recommend(shop, auth, "trending"))


def test_similar_is_item_to_items_of_the_last_browsed_item(shop: TestClient, auth: Auth) -> None:
    first, last = item_id(NUMBERS[4]), item_id(NUMBERS[9])
    body = recommend(shop, auth, "similar", browsing_history=[first, last])
    neighbours = shop.get(f"/recommendation/items/{last}/items/?amt=10", headers=auth("acme", "frontend")).json()
    assert ids(body) == neighbours["items_id"]
    assert last not in ids(body)
    assert ids(body) != ids(recommend(shop, auth, "similar", browsing_history=[last, first]))


def test_similar_to_a_catalog_item_the_model_never_saw_is_trending(client: TestClient, auth: Auth) -> None:
    load_customer_shop("acme")
    added = client.put("/v1/items", json={"items": [{"id": "late-item"}]}, headers=auth("acme", "backend"))
    assert added.status_code == 200
    similar = recommend(client, auth, "similar", browsing_history=["late-item"])
    assert ids(similar) == ids(recommend(client, auth, "trending"))


@pytest.mark.parametrize("dates", ["iso", "epoch"])
def test_new_arrivals_are_newest_first_and_never_undated(client: TestClient, auth: Auth, dates: str) -> None:
    load_customer_shop("dated", dates=dates)  # type: ignore[arg-type]
    props = properties_by_id(dates=dates)  # type: ignore[arg-type]
    dated = [i for i, p in props.items() if "created_at" in p]
    expected = sorted(dated, key=lambda i: props[i]["created_at"], reverse=True)
    body = recommend(client, auth, "new_arrivals", "dated", limit=100)
    assert ids(body) == expected
    assert len(expected) < len(props)  # some items have no date, and are not shown


def test_categories_boost_preferred_items_first_and_the_list_still_fills(shop: TestClient, auth: Auth) -> None:
    garden = {i for i in PROPS if category(i) == "garden"}
    prefs = {"categories": ["garden"]}
    body = recommend(shop, auth, "trending", customer_preferences=prefs, limit=30)
    found = ids(body)
    assert len(found) == 30 and len(garden) < 30
    assert set(found[: len(garden)]) == garden and not set(found[len(garden) :]) & garden
    # Within each group, the trending order is kept.
    plain = ids(recommend(shop, auth, "trending", limit=100))
    assert found[: len(garden)] == [i for i in plain if i in garden]
    assert found[len(garden) :] == [i for i in plain if i not in garden][: 30 - len(garden)]
    none_match = recommend(shop, auth, "trending", customer_preferences={"categories": ["unheard-of"]})
    assert ids(none_match) == plain[:10]


def test_categories_match_any_element_of_an_array_property(client: TestClient, auth: Auth) -> None:
    load_customer_shop("arrays", category_arrays=True)
    on_sale = {item_id(n) for i, n in enumerate(NUMBERS) if i % 2}
    body = recommend(client, auth, "trending", "arrays", customer_preferences={"categories": ["sale"]}, limit=20)
    assert set(ids(body)) <= on_sale and len(ids(body)) == 20


def test_price_range_filters_inclusively_and_drops_items_without_a_price(shop: TestClient, auth: Auth) -> None:
    low, high = 42.99, 240.99  # two prices of the catalog: the bounds are inclusive
    inside = {i for i, p in PROPS.items() if "price" in p and low <= p["price"] <= high}
    assert any(PROPS[i]["price"] == low for i in inside) and any(PROPS[i]["price"] == high for i in inside)
    prefs = {"price_range": {"min": low, "max": high}}
    for template in ("trending", "personalized", "new_arrivals"):
        body = recommend(shop, auth, template, customer_preferences=prefs, limit=100)
        if template == "new_arrivals":
            inside_dated = {i for i in inside if "created_at" in PROPS[i]}
            assert set(ids(body)) == inside_dated
        else:
            assert set(ids(body)) == inside
        # Scaled over the items in the range only: the whole range spans 1.0 down to 0.0.
        assert body["results"][0]["score"] == 1.0 and body["results"][-1]["score"] == 0.0
    only_max = recommend(shop, auth, "trending", customer_preferences={"price_range": {"max": 60}}, limit=100)
    assert set(ids(only_max)) == {i for i, p in PROPS.items() if "price" in p and p["price"] <= 60}


def test_purchased_items_are_never_returned_browsed_ones_may_be(shop: TestClient, auth: Auth) -> None:
    top = ids(recommend(shop, auth, "trending", limit=3))
    body = recommend(shop, auth, "trending", purchase_history=top[:2], browsing_history=[top[2]], limit=100)
    assert not set(top[:2]) & set(ids(body))
    assert ids(body)[0] == top[2] and len(ids(body)) == len(PROPS) - 2
    for template in ("personalized", "new_arrivals", "similar"):
        found = recommend(shop, auth, template, purchase_history=top, browsing_history=[top[0]], limit=100)
        assert not set(top) & set(ids(found)), template


def test_scores_are_scaled_rounded_and_never_increase(shop: TestClient, auth: Auth) -> None:
    for template in ("personalized", "trending", "similar", "new_arrivals"):
        body = recommend(shop, auth, template, browsing_history=[item_id(NUMBERS[1])], limit=40)
        assert_well_formed(body, 40, str)
        assert body["results"][0]["score"] == 1.0
    assert len(recommend(shop, auth, "trending", limit=3)["results"]) == 3
    assert len(recommend(shop, auth, "trending")["results"]) == 10  # the default limit


def test_the_default_scenario_of_the_reco_type_applies(shop: TestClient, auth: Auth) -> None:
    h = auth("acme", "manager")
    books_only = {
        "scenario_type": "case",
        "case": {"filters": [{"property_name": "category", "op": "eq", "value": "books"}]},
    }
    assert shop.put("/scenarios/session_to_items/books/", json=books_only, headers=h).status_code == 200
    before = recommend(shop, auth, "trending")
    assert {category(i) for i in ids(before)} != {"books"}
    assert shop.patch("/scenarios-default/session_to_items/", json={"name": "books"}, headers=h).status_code == 204
    for template in ("trending", "personalized", "new_arrivals"):
        assert {category(i) for i in ids(recommend(shop, auth, template))} == {"books"}, template
    # similar is item_to_items: the session default does not apply, its own does.
    seed = [item_id(NUMBERS[2])]
    assert {category(i) for i in ids(recommend(shop, auth, "similar", browsing_history=seed))} != {"books"}
    assert shop.put("/scenarios/item_to_items/books/", json=books_only, headers=h).status_code == 200
    assert shop.patch("/scenarios-default/item_to_items/", json={"name": "books"}, headers=h).status_code == 204
    assert {category(i) for i in ids(recommend(shop, auth, "similar", browsing_history=seed))} == {"books"}
