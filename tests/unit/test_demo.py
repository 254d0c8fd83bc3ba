from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from reco.demo import (
    AGE_GROUPS,
    CATEGORIES,
    COLORS,
    COUNTRIES,
    DEFAULT_NOW,
    EVENT_TYPES,
    DemoData,
    generate_demo,
    summary,
)
from reco.schemas.ranking import check_attribute_value

ITEM_KEYS = {
    "title", "description", "category", "brand", "price", "stock", "on_sale",
    "color", "tags", "audience", "created_at", "rating",
}  # fmt: skip
USER_KEYS = {"country", "age_group", "favorite_category", "signup_date"}
CATEGORY_BY_NAME = {c.name: c for c in CATEGORIES}


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate_demo()


def _when(event: dict[str, Any]) -> datetime:
    return datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _dump(data: DemoData) -> str:
    return json.dumps(asdict(data), sort_keys=False)


def test_the_same_seed_gives_byte_identical_data_and_another_seed_does_not(data: DemoData) -> None:
    assert _dump(generate_demo()) == _dump(data)
    other = generate_demo(seed=8)
    assert _dump(other) != _dump(data)
    assert [i["properties"]["title"] for i in other.items] != [i["properties"]["title"] for i in data.items]


def test_the_defaults_fit_a_model_that_trains_in_a_second(data: DemoData) -> None:
    assert len(data.items) == 400
    assert len(data.users) == 300
    assert 6000 <= len(data.events) <= 9000
    assert 15 <= len(data.events) / len(data.users) <= 30
    assert {e["user_id"] for e in data.events} == {u["id"] for u in data.users}  # everyone did something
    assert 8 <= len({i["properties"]["category"] for i in data.items}) <= 10


def test_ids_are_unique_and_formatted(data: DemoData) -> None:
    item_ids = [i["id"] for i in data.items]
    user_ids = [u["id"] for u in data.users]
    event_ids = [e["event_id"] for e in data.events]
    assert item_ids[:2] == ["sku-0001", "sku-0002"]
    assert user_ids[:2] == ["user-001", "user-002"]
    assert event_ids[:2] == ["evt-000001", "evt-000002"]
    for ids in (item_ids, user_ids, event_ids):
        assert len(set(ids)) == len(ids)
    assert event_ids == sorted(event_ids)


def _is_plain_value(value: Any) -> bool:
    if isinstance(value, list):
        return all(isinstance(v, str) for v in value)
    return isinstance(value, str | int | float | bool)


def test_every_property_is_a_string_number_boolean_or_string_array(data: DemoData) -> None:
    for record in (*data.items, *data.users):
        assert set(record) == {"id", "properties"}
        for value in record["properties"].values():
            assert _is_plain_value(value)
            assert check_attribute_value(value) == value  # accepted as candidate attributes by /v1/recommend


def test_item_properties_have_the_documented_shapes(data: DemoData) -> None:
    for item in data.items:
        p = item["properties"]
        assert set(p) == ITEM_KEYS
        category = CATEGORY_BY_NAME[p["category"]]
        assert p["brand"] in category.brands
        assert p["title"].startswith(p["brand"] + " ")
        assert isinstance(p["price"], float)
        assert round(p["price"], 2) == p["price"]
        assert category.price[0] <= p["price"] <= category.price[1]
        assert isinstance(p["stock"], int) and not isinstance(p["stock"], bool) and p["stock"] >= 0
        assert isinstance(p["on_sale"], bool)
        assert p["color"] in COLORS
        assert p["color"] in p["description"]
        assert p["audience"] in {"adults", "kids", "men", "women", "unisex"}
        assert p["tags"] and all(isinstance(t, str) and t for t in p["tags"])
        assert len(set(p["tags"])) == len(p["tags"])
        assert date.fromisoformat(p["created_at"]) <= DEFAULT_NOW.date()
        assert isinstance(p["rating"], float) and 1.0 <= p["rating"] <= 5.0
        assert 1 <= p["description"].count(". ") + 1 <= 2


def test_items_carry_the_tags_and_details_a_shopper_would_ask_for(data: DemoData) -> None:
    tags = Counter(t for i in data.items for t in i["properties"]["tags"])
    for tag in ("gift", "kids", "eco", "solid wood", "wireless", "for dad", "for mom", "birthday", "christmas"):
        assert tags[tag] > 0, tag
    created = [date.fromisoformat(i["properties"]["created_at"]) for i in data.items]
    assert sum(c > DEFAULT_NOW.date() - timedelta(days=30) for c in created) >= 20  # new arrivals exist


def test_about_a_tenth_is_out_of_stock_and_some_items_are_on_sale(data: DemoData) -> None:
    out_of_stock = sum(i["properties"]["stock"] == 0 for i in data.items) / len(data.items)
    on_sale = sum(i["properties"]["on_sale"] for i in data.items) / len(data.items)
    assert 0.07 <= out_of_stock <= 0.13
    assert 0.05 <= on_sale <= 0.35


def test_titles_are_readable_and_nearly_unique(data: DemoData) -> None:
    titles = [i["properties"]["title"] for i in data.items]
    assert len(set(titles)) >= 0.95 * len(titles)
    assert all(3 <= len(t.split()) <= 8 for t in titles)


def test_user_properties_follow_the_vocabulary(data: DemoData) -> None:
    first_event: dict[str, datetime] = {}
    for event in data.events:
        first_event.setdefault(event["user_id"], _when(event))
    for user in data.users:
        p = user["properties"]
        assert set(p) == USER_KEYS
        assert p["country"] in {c for c, _ in COUNTRIES}
        assert p["age_group"] in {a for a, _ in AGE_GROUPS}
        assert p["favorite_category"] in CATEGORY_BY_NAME
        assert date.fromisoformat(p["signup_date"]) <= first_event[user["id"]].date()


def test_events_reference_existing_records_and_carry_values_only_for_ratings(data: DemoData) -> None:
    items = {i["id"]: i for i in data.items}
    users = {u["id"] for u in data.users}
    for event in data.events:
        assert event["item_id"] in items
        assert event["user_id"] in users
        assert event["type"] in EVENT_TYPES
        if event["type"] == "rating":
            assert isinstance(event["value"], float) and event["value"] in {1.0, 2.0, 3.0, 4.0, 5.0}
            assert set(event) == {"event_id", "user_id", "item_id", "type", "timestamp", "value"}
        else:
            assert set(event) == {"event_id", "user_id", "item_id", "type", "timestamp"}
        assert _when(event).date() >= date.fromisoformat(items[event["item_id"]]["properties"]["created_at"])


def test_timestamps_lie_in_the_window_and_are_sorted(data: DemoData) -> None:
    stamps = [e["timestamp"] for e in data.events]
    assert stamps == sorted(stamps)
    assert all(s.endswith("Z") for s in stamps)
    whens = [_when(e) for e in data.events]
    assert DEFAULT_NOW - timedelta(days=60) <= min(whens) and max(whens) < DEFAULT_NOW


def test_a_custom_now_and_window_move_every_event() -> None:
    now = datetime(2025, 3, 15, 12, tzinfo=UTC)
    small = generate_demo(seed=3, n_items=40, n_users=25, days=10, now=now)
    assert small.events
    assert all(now - timedelta(days=10) <= _when(e) < now for e in small.events)
    assert generate_demo(seed=3, n_items=40, n_users=25, days=10, now=now.replace(tzinfo=None)) == small


def test_purchases_follow_carts_which_follow_views(data: DemoData) -> None:
    counts = Counter(e["type"] for e in data.events)
    assert counts["view"] > counts["add_to_cart"] > counts["purchase"] > counts["rating"] > 0
    seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
    viewed_first = carted_first = 0
    for event in data.events:
        key = (event["user_id"], event["item_id"])
        if event["type"] == "purchase":
            viewed_first += key in seen["view"]
            carted_first += key in seen["add_to_cart"]
        seen[event["type"]].add(key)
    assert viewed_first >= 0.95 * counts["purchase"]
    assert carted_first >= 0.9 * counts["purchase"]


def test_user_tastes_are_learnable(data: DemoData) -> None:
    """A user's events concentrate on their favorite category far beyond chance."""
    category = {i["id"]: i["properties"]["category"] for i in data.items}
    favorite = {u["id"]: u["properties"]["favorite_category"] for u in data.users}
    per_user: dict[str, list[bool]] = defaultdict(list)
    for event in data.events:
        per_user[event["user_id"]].append(category[event["item_id"]] == favorite[event["user_id"]])
    mean_share = sum(sum(hits) / len(hits) for hits in per_user.values()) / len(per_user)
    assert mean_share > 2 * (1 / len(CATEGORIES))


def test_popularity_is_skewed_and_some_items_trend_in_the_last_week(data: DemoData) -> None:
    views = Counter(e["item_id"] for e in data.events if e["type"] == "view")
    ranked = sorted(views.values(), reverse=True)
    assert sum(ranked[: len(data.items) // 10]) >= 0.3 * sum(ranked)  # the top tenth of items takes a third
    last_week, week_before = Counter[str](), Counter[str]()
    for event in data.events:
        age = DEFAULT_NOW - _when(event)
        if event["type"] == "view" and age <= timedelta(days=14):
            (last_week if age <= timedelta(days=7) else week_before)[event["item_id"]] += 1
    risers = [i for i, n in last_week.items() if n >= 20 and n >= 2 * week_before[i]]
    assert risers


def test_summary_counts_the_data(data: DemoData) -> None:
    s = summary(data)
    assert (s["items"], s["users"], s["events"]) == (400, 300, len(data.events))
    assert sum(s["events_by_type"].values()) == len(data.events)
    assert list(s["events_by_type"]) == list(EVENT_TYPES)
    assert sum(s["categories"].values()) == 400
    assert s["price_range"][0] < s["price_range"][1]
    assert s["out_of_stock"] == sum(i["properties"]["stock"] == 0 for i in data.items)
    assert s["first_event"] <= s["last_event"]
    json.dumps(s)  # printable as is


def test_tiny_and_invalid_sizes() -> None:
    tiny = generate_demo(n_items=3, n_users=2, days=1)
    assert len(tiny.items) == 3 and len(tiny.users) == 2
    with pytest.raises(ValueError, match="positive"):
        generate_demo(n_items=0)
