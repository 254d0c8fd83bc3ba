"""Scripted conversations over the demo catalog: each turn's items checked against the catalog itself.

Every turn of every script is checked the same way: prices within what was asked (and strictly under the
previous turn's cheapest after "cheaper"), the asked category and property values, nothing the shopper
excluded, no item twice in a conversation (unless asked "again"), the right status, out-of-stock items
last, and a reply that names no item outside the response; a turn without items asks exactly one question.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from local.tokens import issue_token
from reco.stores.catalog import catalog_store
from reco.stores.conversations import conversation_store

TENANT = "demo"
Values = str | tuple[str, ...]


@dataclass(frozen=True)
class Say:
    """One turn of a script and what its answer must satisfy."""

    message: str
    where: Mapping[str, Values] = field(default_factory=dict)  # every item has (one of) these (tags: contains)
    unless: Mapping[str, Values] = field(default_factory=dict)  # no item has any of these
    words: tuple[str, ...] = ()  # every item's title or description has one of these words
    no_words: tuple[str, ...] = ()  # no item's title or description has any of these
    low: float | None = None
    high: float | None = None
    cheaper: bool = False  # strictly under the previous turn's cheapest item
    pricier: bool = False  # at least the previous turn's dearest item
    relative: str | None = None  # "budget": the category's cheapest third; "premium": its dearest third
    constraints: Mapping[str, Any] = field(default_factory=dict)  # a subset of the stored constraints
    found: int | None = None  # exactly this many items (0: a question); None: at least one
    again: bool = False  # the previous turn's items, again
    events: tuple[Mapping[str, Any], ...] = ()


def viewed(*item_ids: str) -> tuple[dict[str, Any], ...]:
    return tuple(
        {"timestamp": f"2026-10-30T10:0{n}:00Z", "type": "browse", "item_id": item_id}
        for n, item_id in enumerate(item_ids)
    )


BOOKS = {"category": "books"}
SCRIPTS: dict[str, Sequence[Say]] = {
    "books under $20": [
        Say("books under $20", BOOKS, high=20, constraints={"max_price": 20.0, "include": {"category": ["books"]}})
    ],
    "gift for dad under $50": [
        Say(
            "a gift for my dad under $50",
            {"tags": "for dad"},
            high=50,
            constraints={"recipient": "dad", "gift": True, "include": {"tags": ["for dad"]}},
        )
    ],
    "kitchen between 20 and 60": [
        Say("kitchen things between 20 and 60", {"category": "kitchen"}, low=20, high=60, found=4)
    ],
    "kids, not books": [
        Say(
            "something for kids, not books",
            {"audience": "kids"},
            BOOKS,
            constraints={"exclude": {"category": ["books"]}},
        )
    ],
    "black jacket": [Say("a black jacket", {"category": "jackets", "color": "black"})],
    "cheap toys": [Say("cheap toys", {"category": "toys"}, relative="budget", constraints={"budget": True})],
    "premium chairs": [
        Say("premium chairs", {"category": "chairs"}, relative="premium", constraints={"premium": True})
    ],
    "backpacks, cheaper, else": [
        Say("show me backpacks", {"category": "backpacks"}, found=4),
        Say("cheaper", {"category": "backpacks"}, cheaper=True, found=0),  # the cheapest backpack was shown
        Say("something else", found=0, constraints={"something_else": True, "cheaper_than": 29.99}),
    ],
    "jackets, cheaper, else": [
        Say("show me jackets", {"category": "jackets"}, found=4),
        Say("cheaper", {"category": "jackets"}, cheaper=True, found=1),
        Say("something else", found=0),
    ],
    "like the desk I looked at": [
        Say(
            "something like the desk I looked at",
            {"category": "desks"},
            events=viewed("sku-0178", "sku-0339"),  # a lamp, then a desk
            constraints={"anchor_item_id": "sku-0339"},
            found=4,
        )
    ],
    "birthday present for mom": [
        Say(
            "birthday present for my mom",
            {"tags": "for mom"},
            constraints={"recipient": "mom", "occasion": "birthday", "include": {"tags": ["birthday", "for mom"]}},
            found=4,
        )
    ],
    "hiking gear for partner": [
        Say(
            "hiking gear for my partner", words=("hiking",), constraints={"text": "hiking gear", "recipient": "partner"}
        )
    ],
    "headphones, wireless, pricier": [
        Say("headphones under 100", {"category": "headphones"}, high=100),
        Say("wireless ones", {"category": "headphones", "tags": "wireless"}, high=100),
        Say("more expensive", {"category": "headphones", "tags": "wireless"}, pricier=True),
    ],
    "running shoes for women": [
        Say("running shoes for women under $150", {"category": "running shoes", "audience": "women"}, high=150)
    ],
    "toys for a toddler": [
        Say("toys for a toddler, nothing over 30 dollars", {"category": "toys", "audience": "kids"}, high=30)
    ],
    "jacket, not black": [Say("a jacket, not black", {"category": "jackets"}, {"color": "black"})],
    "kitchen, no copper": [Say("kitchen things, no copper", {"category": "kitchen"}, no_words=("copper",))],
    "kids books, not picture books": [
        Say("books for kids", {"category": "books", "audience": "kids"}),
        Say("not picture books", {"category": "books", "audience": "kids"}, no_words=("picture",)),
    ],
    "headphones around $50": [Say("headphones around $50", {"category": "headphones"}, low=40, high=60)],
    "lamps over $200": [Say("lamps over $200", {"category": "lamps"}, low=200)],
    "desks, lamps, cheaper": [
        Say("desks", {"category": "desks"}),
        Say("lamps", {"category": "lamps"}, constraints={"include": {"category": ["lamps"]}}),
        Say("cheaper", {"category": "lamps"}, cheaper=True),
    ],
    "gaming chair": [Say("a gaming chair", {"category": "chairs"}, words=("gaming",))],
    "mothers day": [Say("mothers day", {"tags": "mothers day"}, found=4)],
    "gift, for mom, under 60": [
        Say("a gift", {"tags": "gift"}),
        Say("for my mom", {"tags": "for mom"}),
        Say("under 60", {"tags": "for mom"}, high=60, constraints={"recipient": "mom", "max_price": 60.0}),
    ],
    "anything but toys for nephew": [
        Say("anything but toys for my nephew", {"audience": "kids"}, {"category": "toys"})
    ],
    "desk, start over, headphones": [
        Say("I need a desk", {"category": "desks"}),
        Say("start over", found=0, constraints={"include": {}, "vague": True}),
        Say("headphones", {"category": "headphones"}, constraints={"include": {"category": ["headphones"]}}),
    ],
    "hi": [Say("hi", found=0, constraints={"vague": True})],
    "books, again": [Say("books", BOOKS), Say("show me those again", BOOKS, again=True)],
    "standing desk 200-400": [
        Say("a standing desk between 200 and 400", {"category": "desks"}, words=("standing",), low=200, high=400)
    ],
    "waterproof backpack": [Say("waterproof backpack", {"category": "backpacks", "tags": "waterproof"})],
    "christmas gift for a kid": [
        Say("a christmas gift for my kid", {"audience": "kids", "tags": "christmas"}, constraints={"gift": True})
    ],
    "leather jacket for husband": [
        Say(
            "leather jacket for my husband",
            {"category": "jackets", "tags": "leather"},
            constraints={"recipient": "partner"},
        )
    ],
    "fathers day gift": [Say("fathers day gift", {"tags": "fathers day"}, found=4)],
    "toys, else x3": [
        Say("toys", {"category": "toys"}, found=4),
        Say("something else", {"category": "toys"}, found=4),
        Say("something else", {"category": "toys"}, found=4),
        Say("show me more", {"category": "toys"}, found=4),
    ],
    "desk for heavy tools": [Say("Which desk would you recommend for heavy tools?", {"category": "desks"}, found=4)],
    "something blue": [Say("something blue", {"color": ("navy blue", "sky blue")}, found=4)],
    "housewarming present": [
        Say("a present for a friend's housewarming", {"tags": "housewarming"}, constraints={"recipient": "friend"})
    ],
    "expensive lamp": [Say("an expensive lamp", {"category": "lamps"}, relative="premium")],
    "chairs, for kids, cheaper": [
        Say("chairs", {"category": "chairs"}),
        Say("for kids", {"category": "chairs", "audience": "kids"}),
        Say("cheaper", found=0, constraints={"cheaper_than": 57.99}),  # the cheapest kids' chair was shown
    ],
    "lamps, under 100, in black": [
        Say("lamps", {"category": "lamps"}),
        Say("under $100", {"category": "lamps"}, high=100),
        Say("in black", {"category": "lamps", "color": "black"}, high=100),
    ],
    "jackets over 300, cheaper x2": [
        Say("jackets over $300", {"category": "jackets"}, low=300),
        Say("cheaper", {"category": "jackets"}, cheaper=True, constraints={"min_price": None}),  # drops the floor
        Say("cheaper", {"category": "jackets"}, cheaper=True),
    ],
    "cookbooks (plural of the titles' word)": [Say("cookbooks", BOOKS, words=("cookbook",), found=4)],
    "an earbud (singular of the titles' word)": [
        Say("a wireless earbud", {"category": "headphones"}, words=("earbuds",), constraints={"text": "earbud"})
    ],
    "nothing under $5": [Say("a jacket under $5", found=0, constraints={"max_price": 5.0})],
}


@pytest.fixture(scope="module")
def client(demo_client: TestClient) -> TestClient:
    """The demo tenant (tests/chat/conftest.py), loaded once for the chat tests."""
    return demo_client


@pytest.fixture(scope="module")
def catalog(client: TestClient) -> dict[str, dict[str, Any]]:
    """Every demo item's properties, read back from the catalog store."""
    found = catalog_store().get_items(TENANT, [f"sku-{n:04d}" for n in range(1, 401)])
    assert len(found) == 400
    return {item_id: dict(item.properties) for item_id, item in found.items()}


def test_there_are_at_least_30_scripts() -> None:
    assert len(SCRIPTS) >= 30
    assert all(turn.message for script in SCRIPTS.values() for turn in script)


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_scripted_conversation(client: TestClient, catalog: dict[str, dict[str, Any]], name: str) -> None:
    headers = {"Authorization": f"Bearer {issue_token(TENANT, ['frontend'])}"}
    conversation_id: str | None = None
    shown: list[str] = []
    previous: list[str] = []
    for number, say in enumerate(SCRIPTS[name], start=1):
        body: dict[str, Any] = {"message": say.message, "events": list(say.events)}
        if conversation_id:
            body["conversation_id"] = conversation_id
        response = client.post("/v1/chat", json=body, headers={**headers, "X-Request-Id": f"s-{uuid.uuid4().hex}"})
        assert response.status_code == 200, response.text
        answer = response.json()
        conversation_id = conversation_id or answer["conversation_id"]
        assert answer["conversation_id"] == conversation_id
        ids = [item["item_id"] for item in answer["items"]]
        where = f"{name!r}, turn {number} ({say.message!r}): {ids}, {answer['message']!r}"
        _check_items(say, answer, catalog, previous, where)
        _check_reply(say, answer, catalog, where)
        if say.again:
            assert ids == previous, where
        else:
            assert not set(ids) & set(shown), f"repeated: {where}"
        stored = conversation_store().get(TENANT, conversation_id)
        assert stored is not None and stored.turns[-1].number == number
        assert list(stored.turns[-1].items) == ids
        _check_constraints(say.constraints, stored.turns[-1].constraints, where)
        shown += ids
        previous = ids


def _check_items(
    say: Say, answer: dict[str, Any], catalog: dict[str, dict[str, Any]], previous: list[str], where: str
) -> None:
    items = answer["items"]
    if say.found is None:
        assert 1 <= len(items) <= 4, where
    else:
        assert len(items) == say.found, where
    found = catalog_store().get_items(TENANT, [item["item_id"] for item in items])
    prices = [catalog[i]["price"] for i in previous]
    for item in items:
        properties = found[item["item_id"]].properties
        price = float(properties["price"])
        assert item["title"] == properties["title"] and item["description"] == properties["description"], where
        assert item["price"] == f"{price:.2f}", where
        assert item["status"] == ("out_of_stock" if properties["stock"] == 0 else "active"), where
        assert say.low is None or price >= say.low, where
        assert say.high is None or price <= say.high, where
        assert not say.cheaper or price < min(prices), where
        assert not say.pricier or price >= max(prices), where
        if say.relative is not None:
            peers = [p["price"] for p in catalog.values() if p["category"] == properties["category"]]
            if say.relative == "budget":
                assert price <= np.quantile(peers, 1 / 3), where
            else:
                assert price >= np.quantile(peers, 2 / 3), where
        for name, wanted in say.where.items():
            assert _has(properties.get(name), wanted), f"{name} is not {wanted}: {where}"
        for name, unwanted in say.unless.items():
            assert not _has(properties.get(name), unwanted), f"{name} is {unwanted}: {where}"
        text = f"{properties['title']} {properties['description']}".lower()
        assert not say.words or any(word in text for word in say.words), where
        assert not any(word in text for word in say.no_words), where
    statuses = [item["status"] for item in items]
    assert statuses == sorted(statuses, key=lambda s: s == "out_of_stock"), f"out of stock first: {where}"


def _has(value: Any, wanted: Values) -> bool:
    options = (wanted,) if isinstance(wanted, str) else wanted
    if isinstance(value, list):
        return any(option in value for option in options)
    return value in options


def _check_reply(say: Say, answer: dict[str, Any], catalog: dict[str, dict[str, Any]], where: str) -> None:
    reply, returned = answer["message"], {item["title"] for item in answer["items"]}
    named = {p["title"] for p in catalog.values() if p["title"] in reply}
    assert named <= returned, f"names {named - returned}: {where}"
    if answer["items"]:
        assert answer["items"][0]["title"] in reply and "?" not in reply, where
    else:
        assert reply.endswith("?") and reply.count("?") == 1, where


def _check_constraints(expected: Mapping[str, Any], stored: Mapping[str, Any], where: str) -> None:
    for key, value in expected.items():
        if isinstance(value, dict) and value:
            for name, values in value.items():
                assert list(stored[key].get(name, [])) == list(values), f"{key}.{name}: {stored[key]} ({where})"
        else:
            assert stored[key] == value, f"{key}: {stored[key]!r} ({where})"
