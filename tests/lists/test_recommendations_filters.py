"""Filters of GET /v1/recommendations end to end: every item returned satisfies them, read from the catalog."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.lists.store import load_store, store_items

Auth = Callable[..., dict[str, str]]
Props = dict[str, Any]
TENANT = "filters"
ITEMS: dict[str, Props] = {item["id"]: item["properties"] for item in store_items()}


def where(test: Callable[[Props], bool]) -> set[str]:
    return {item_id for item_id, props in ITEMS.items() if test(props)}


@pytest.fixture
def store(client: TestClient) -> TestClient:
    load_store(TENANT)
    return client


def listed(client: TestClient, headers: dict[str, str], params: list[tuple[str, str]]) -> Any:
    response = client.get(
        "/v1/recommendations", params=[("user_id", "usr_7"), ("limit", "100"), *params], headers=headers
    )
    assert response.status_code == 200, (params, response.json())
    return response.json()


# (query parameters, the documented meaning over catalog properties)
CASES: list[tuple[list[tuple[str, str]], Callable[[Props], bool]]] = [
    ([("filter", "category:electronics")], lambda p: p["category"] == "electronics"),
    ([("filter", "category=books")], lambda p: p["category"] == "books"),
    ([("filter", "type!=comment")], lambda p: p["type"] != "comment"),
    ([("filter", "price>=100"), ("filter", "price<300")], lambda p: 100 <= p["price"] < 300),
    ([("filter", "price>250.5")], lambda p: p["price"] > 250.5),
    ([("filter", "price<=1e2")], lambda p: p["price"] <= 100),
    ([("filter", "in_stock:true")], lambda p: p["in_stock"] is True),
    ([("filter", "in_stock=FALSE")], lambda p: p["in_stock"] is False),
    ([("filter", "tags:sale")], lambda p: "sale" in p["tags"]),
    ([("filter", "tags!=sale|new")], lambda p: not {"sale", "new"} & set(p["tags"])),
    ([("filter", "brand:Acme|Zeta")], lambda p: p["brand"] in ("Acme", "Zeta")),
    ([("filter", "created_at>=2026-06-01")], lambda p: p["created_at"] >= "2026-06-01"),
    ([("filter", "created_at<2026-03")], lambda p: p["created_at"] < "2026-03"),
    ([("filter", "name~GARDEN thing")], lambda p: p["category"] == "garden"),
    ([("filter", "description~zeta BOOKS")], lambda p: p["category"] == "books"),
    # OR: at least one OR filter holds, and every AND filter.
    (
        [("filter", "OR:brand:Acme"), ("filter", "OR:category:books")],
        lambda p: p["brand"] == "Acme" or p["category"] == "books",
    ),
    (
        [("filter", "category:garden"), ("filter", "OR:brand:Acme"), ("filter", "or:price<50")],
        lambda p: p["category"] == "garden" and (p["brand"] == "Acme" or p["price"] < 50),
    ),
    # The filters alias combines with filter.
    (
        [("filters", "category:books"), ("filter", "in_stock:false")],
        lambda p: p["category"] == "books" and not p["in_stock"],
    ),
    ([("filters", "brand:Nova"), ("filters", "price>200")], lambda p: p["brand"] == "Nova" and p["price"] > 200),
    # scope JSON, alone and with the shorthand.
    (
        [("scope", json.dumps({"filters": [{"column": "price", "operator": "lte", "value": 100}]}))],
        lambda p: p["price"] <= 100,
    ),
    (
        [
            ("filter", "category:electronics"),
            (
                "scope",
                json.dumps(
                    {
                        "filters": [
                            {"column": "tags", "operator": "contains", "value": "new", "logic": "OR"},
                            {"column": "brand", "operator": "in", "value": ["Zeta"], "logic": "or"},
                            {"column": "type", "operator": "neq", "value": "comment"},
                        ]
                    }
                ),
            ),
        ],
        lambda p: (
            p["category"] == "electronics" and p["type"] != "comment" and ("new" in p["tags"] or p["brand"] == "Zeta")
        ),
    ),
    ([("scope", json.dumps({"filters": [{"column": "tags", "operator": "not_exists"}]}))], lambda p: not p["tags"]),
    (
        [("scope", json.dumps({"filters": [{"column": "price", "operator": "gt", "value": "400"}]}))],
        lambda p: p["price"] > 400,
    ),
]


def test_every_returned_item_satisfies_the_filters(store: TestClient, auth: Auth) -> None:
    headers = auth(TENANT)
    for params, meaning in CASES:
        body = listed(store, headers, params)
        found = [entry["item_id"] for entry in body["data"]]
        expected = where(meaning)
        assert expected, params  # a case that keeps nothing proves nothing
        # The whole catalog is scored, so the list is exactly the items that pass.
        assert len(found) == len(set(found)) and set(found) == expected, params
        texts = [value for name, value in params if name in ("filter", "filters")]
        rules = [rule for rule in body["explanation"]["rules"] if rule["type"] == "filter"]
        assert sorted(r["text"] for r in rules if r["source"] == "filter") == sorted(texts), params
        assert len(rules) == len(texts) + sum(len(json.loads(v)["filters"]) for n, v in params if n == "scope")
        first = body["data"][0]["explanation"]
        assert first["rules"] == body["explanation"]["rules"]
        assert sum(reason.startswith("Matches the filter: ") for reason in first["shown_because"]) == len(rules)


def test_filters_narrow_the_same_ranking(store: TestClient, auth: Auth) -> None:
    headers = auth(TENANT)
    everything = [e["item_id"] for e in listed(store, headers, [])["data"]]
    books = [e["item_id"] for e in listed(store, headers, [("filter", "category:books")])["data"]]
    assert books == [i for i in everything if ITEMS[i]["category"] == "books"]
    page = listed(store, headers, [("filter", "category:books"), ("limit", "5")])
    assert [e["item_id"] for e in page["data"]] == books[:5] and page["has_more"] is True
    assert [e["rank"] for e in page["data"]] == [1, 2, 3, 4, 5]
    nothing = listed(store, headers, [("filter", "category:books"), ("filter", "category:garden")])
    assert nothing["data"] == [] and nothing["has_more"] is False and nothing["quantity"] == 0
    ignored = listed(store, headers, [("scope", json.dumps({"filters": [], "boost": 1}))])
    assert [e["item_id"] for e in ignored["data"]] == everything
    assert ignored["explanation"]["warnings"] == ["scope key 'boost' is ignored: only filters is honoured"]


# (parameter, value, words the detail holds, data.parameter)
MALFORMED: list[tuple[str, str, list[str], str]] = [
    ("filter", "brand", ["'brand'", "no operator"], "filter"),
    ("filters", "brand", ["'brand'", "no operator"], "filter"),
    ("filter", "", ["is empty"], "filter"),
    ("filter", ":x", ["must start with a property name"], "filter"),
    ("filter", "OR:", ["nothing follows the logic prefix"], "filter"),
    ("filter", "brand:a||b", ["'brand:a||b'", "empty alternative"], "filter"),
    ("filter", "brand:a\\x", ["unknown escape"], "filter"),
    ("filter", "price>1|2", ["a|b only works with"], "filter"),
    ("filter", "price>abc", ["'price'", "'abc' is not a number"], "filter"),
    ("filter", "price>1e999", ["out of range"], "filter"),
    ("filter", "in_stock:maybe", ["'in_stock'", "not true or false"], "filter"),
    ("filter", "in_stock>1", ["'in_stock'", "no order"], "filter"),
    ("filter", "category~!!!", ["no words"], "filter"),
    ("filter", "x" * 513, ["513 characters"], "filter"),
    ("scope", "{", ["not valid JSON"], "scope"),
    ("scope", "category:books", ["not valid JSON"], "scope"),
    ("scope", "[]", ["must be a JSON object"], "scope"),
    ("scope", '{"filters": {"column": "brand"}}', ["must be a JSON array"], "scope"),
    ("scope", '{"filters": [{"column": "brand", "operator": "like", "value": "x"}]}', ["unknown operator"], "scope"),
    ("scope", '{"filters": [{"column": "brand", "operator": "eq"}]}', ["missing 'value'"], "scope"),
    (
        "scope",
        '{"filters": [{"column": "brand", "operator": "eq", "value": "x", "why": 1}]}',
        ["unknown key 'why'"],
        "scope",
    ),
    (
        "scope",
        '{"filters": [{"column": "price", "operator": "gt", "value": NaN}]}',
        ["NaN is not a JSON number"],
        "scope",
    ),
    ("scope", '{"filters": [{"column": "brand", "operator": "contains", "value": "x"}]}', ["needs an array"], "scope"),
]


def test_malformed_filters_are_400_naming_the_bad_part(store: TestClient, auth: Auth) -> None:
    headers = auth(TENANT)
    for parameter, value, words, source in MALFORMED:
        response = store.get("/v1/recommendations", params={"user_id": "usr_1", parameter: value}, headers=headers)
        body = response.json()
        assert response.status_code == 400, (parameter, value, body)
        assert body["code"] == "MALFORMED_FILTER" and body["data"]["parameter"] == source, (value, body)
        assert body["request_id"] == response.headers["x-request-id"]
        if parameter != "scope":  # a scope names the filter object at fault (or the whole text)
            assert body["data"]["filter"] == value[:200]
        for word in words:
            assert word in body["detail"], (value, word, body["detail"])
    too_many = [("filter", f"price>{k}") for k in range(21)]
    response = store.get("/v1/recommendations", params=too_many, headers=headers)
    assert response.status_code == 400 and "too many filters: 21" in response.json()["detail"]
    assert store.get("/v1/recommendations", params=too_many[:20], headers=headers).status_code == 200
    huge = json.dumps({"filters": [], "pad": "x" * 9000})
    response = store.get("/v1/recommendations", params={"scope": huge}, headers=headers)
    assert response.status_code == 400 and "scope" in response.json()["detail"]


def test_a_filter_on_a_property_the_catalog_lacks_keeps_all_or_none_with_a_warning(
    store: TestClient, auth: Auth
) -> None:
    headers = auth(TENANT)
    everything = store.get("/v1/recommendations", params={"user_id": "usr_1", "limit": 10}, headers=headers).json()
    kept = store.get(
        "/v1/recommendations", params={"user_id": "usr_1", "limit": 10, "filter": "section!=comment"}, headers=headers
    )
    assert kept.status_code == 200
    assert [r["item_id"] for r in kept.json()["data"]] == [r["item_id"] for r in everything["data"]]
    assert any("no item has the property 'section'" in w for w in kept.json()["explanation"]["warnings"])
    none = store.get("/v1/recommendations", params={"user_id": "usr_1", "filter": "section:comment"}, headers=headers)
    assert none.status_code == 200
    assert none.json()["data"] == []
    assert any("keeps no item" in w for w in none.json()["explanation"]["warnings"])
