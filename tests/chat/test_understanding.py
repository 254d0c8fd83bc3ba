"""Query understanding for the chat endpoint: one message (+ the previous turn, the events) → Constraints."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from reco.chat import CatalogVocabulary, ChatEvent, Constraints, understand
from reco.chat.lexicon import find_prices, normalize, stem
from reco.demo import generate_demo
from reco.models.columns import ItemColumns, build_item_columns

# The demo shop's vocabularies (reco.demo), cut down.
VOCAB = CatalogVocabulary(
    values={
        "category": [
            *("backpacks", "books", "chairs", "desks", "headphones", "jackets", "kitchen", "lamps", "running shoes"),
            "toys",
        ],
        "color": ["black", "white", "sky blue", "navy blue", "burgundy red", "forest green", "charcoal grey"],
        "tags": [
            *("gift", "birthday", "christmas", "fathers day", "mothers day", "housewarming", "back to school"),
            *("for dad", "for mom", "kids", "toys", "books", "kitchen", "wireless", "home office", "solid wood", "eco"),
        ],
        "audience": ["adults", "kids", "men", "women", "unisex"],
        "brand": ["Itelio", "Lumora", "Folio & Fern", "Tinkertot", "Sonique"],
    },
    numeric=("price", "rating"),
)


def C(**fields: Any) -> Constraints:
    return Constraints(**fields)


def read(message: str, **kwargs: Any) -> Constraints:
    return understand(message, VOCAB, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# One message, no history


CASES: list[tuple[str, Constraints]] = [
    # --- prices
    ("under $100", C(max_price=100.0)),
    ("below 100", C(max_price=100.0)),
    ("less than 100 dollars", C(max_price=100.0)),
    ("max 80", C(max_price=80.0)),
    ("80 max", C(max_price=80.0)),
    ("up to €50", C(max_price=50.0)),
    ("at most 50", C(max_price=50.0)),
    ("no more than 60 bucks", C(max_price=60.0)),
    ("not over £60", C(max_price=60.0)),
    ("my budget is 100", C(max_price=100.0)),
    ("over 200", C(min_price=200.0)),
    ("above 200", C(min_price=200.0)),
    ("more than 200", C(min_price=200.0)),
    ("at least 30", C(min_price=30.0)),
    ("200 or more", C(min_price=200.0)),
    ("100+", C(min_price=100.0)),
    ("between 50 and 200", C(min_price=50.0, max_price=200.0)),
    ("50-200", C(min_price=50.0, max_price=200.0)),
    ("$50 to $200", C(min_price=50.0, max_price=200.0)),
    ("from 10 to 20 euros", C(min_price=10.0, max_price=20.0)),
    ("£20\u2013£40", C(min_price=20.0, max_price=40.0)),
    ("under 50 and over 20", C(min_price=20.0, max_price=50.0)),
    ("around 100", C(min_price=80.0, max_price=120.0)),
    ("about $250", C(min_price=200.0, max_price=300.0)),
    ("100ish", C(min_price=80.0, max_price=120.0)),
    ("a $50 gift", C(min_price=40.0, max_price=60.0, gift=True, include={"tags": ("gift",)})),
    ("under 1k", C(max_price=1000.0)),
    ("1.5k or less", C(max_price=1500.0)),
    ("between $1k and $2k", C(min_price=1000.0, max_price=2000.0)),
    ("under $1,299.99", C(max_price=1299.99)),
    ("\uff35\uff2e\uff24\uff25\uff32 \uff04\uff15\uff10", C(max_price=50.0)),  # full-width "UNDER $50"
    ("cheap lamps", C(budget=True, include={"category": ("lamps",)})),
    ("something affordable", C(budget=True)),
    ("inexpensive", C(budget=True)),
    ("budget headphones", C(budget=True, include={"category": ("headphones",)})),
    ("luxury headphones", C(premium=True, include={"category": ("headphones",)})),
    ("an expensive jacket", C(premium=True, include={"category": ("jackets",)})),
    ("premium", C(premium=True)),
    ("nothing too expensive", C(budget=True)),
    # numbers that are no price
    ("toys for kids under 5", C(include={"category": ("toys",), "audience": ("kids",)}, recipient="kid")),
    ("kids aged 3-5", C(include={"audience": ("kids",)}, recipient="kid")),
    ("lamps with at least 4 stars", C(include={"category": ("lamps",)})),
    ("20% off", C(vague=True)),
    ("a book about 1984", C(include={"category": ("books",)})),
    # --- attribute values
    ("Which desk would you recommend for heavy tools?", C(text="heavy tools", include={"category": ("desks",)})),
    ("BOOKS", C(include={"category": ("books",)})),  # a category and a tag: the category wins
    ("a book", C(include={"category": ("books",)})),  # plural-tolerant
    ("Toy", C(include={"category": ("toys",)})),
    ("a jacket in sky blue", C(include={"category": ("jackets",), "color": ("sky blue",)})),  # multi-word value
    ("blue backpack", C(include={"color": ("sky blue", "navy blue"), "category": ("backpacks",)})),  # colour word
    ("gray chair", C(include={"color": ("charcoal grey",), "category": ("chairs",)})),
    ("shoes for women", C(include={"category": ("running shoes",), "audience": ("women",)})),  # head noun
    ("wireless headphones", C(include={"tags": ("wireless",), "category": ("headphones",)})),
    ("solid wood desk for the home office", C(include={"tags": ("solid wood", "home office"), "category": ("desks",)})),
    ("desk lamp", C(text="desk", include={"category": ("lamps",)})),  # the first category describes the second
    ("toys or books", C(include={"category": ("toys", "books")})),
    ("anything from Folio & Fern", C(include={"brand": ("Folio & Fern",)})),
    ("oak bookshelf", C(text="oak bookshelf")),  # no value: full text only
    # --- negations
    ("not for kids", C(exclude={"audience": ("kids",)})),
    ("no kids", C(exclude={"audience": ("kids",)})),
    ("without plastic", C(exclude_words=("plastic",))),
    ("nothing red", C(exclude={"color": ("burgundy red",)})),
    ("not books", C(exclude={"category": ("books",)})),
    ("no more books", C(exclude={"category": ("books",)})),
    ("except toys", C(exclude={"category": ("toys",)})),
    ("anything but toys", C(exclude={"category": ("toys",)})),
    ("other than toys", C(exclude={"category": ("toys",)})),
    ("not black or white", C(exclude={"color": ("black", "white")})),
    ("without plastic and metal", C(exclude_words=("plastic", "metal"))),
    ("no kids and in black", C(include={"color": ("black",)}, exclude={"audience": ("kids",)})),
    ("books but not toys", C(include={"category": ("books",)}, exclude={"category": ("toys",)})),
    ("I don't want anything for my kids", C(exclude={"audience": ("kids",)})),
    ("not sure what to get my dad", C(include={"tags": ("for dad",)}, recipient="dad")),  # "not sure" negates nothing
    # --- recipients, occasions, gifts
    (
        "I am looking for a birthday gift for my dad",
        C(include={"tags": ("birthday", "for dad")}, recipient="dad", occasion="birthday", gift=True),
    ),
    ("a present for my mother", C(include={"tags": ("for mom",)}, recipient="mom", gift=True)),
    ("gift for dad", C(include={"tags": ("for dad",)}, recipient="dad", gift=True)),  # the "for dad" value itself
    ("Father's Day gift", C(include={"tags": ("fathers day",)}, occasion="fathers day", gift=True)),
    ("fathers day", C(include={"tags": ("fathers day",)}, occasion="fathers day")),
    (
        "xmas present for a teenager",
        C(include={"tags": ("christmas",)}, recipient="teen", occasion="christmas", gift=True),
    ),
    ("something for my toddler", C(include={"audience": ("kids",)}, recipient="kid")),
    (
        "toys for my son's birthday",
        C(
            include={"category": ("toys",), "audience": ("kids",), "tags": ("birthday",)},
            recipient="kid",
            occasion="birthday",
        ),
    ),
    (
        "valentine's gift for my girlfriend",
        C(include={"tags": ("gift",)}, recipient="partner", occasion="valentines day", gift=True),
    ),
    (
        "graduation present for a coworker",
        C(include={"tags": ("gift",)}, recipient="colleague", occasion="graduation", gift=True),
    ),
    ("baby shower", C(occasion="baby shower")),  # the occasion, not the recipient
    ("for my grandma", C(recipient="grandparent")),
    (
        "housewarming gift, nothing over 40",
        C(max_price=40.0, include={"tags": ("housewarming",)}, occasion="housewarming", gift=True),
    ),
    # --- something else, relative prices without history
    ("something else", C(something_else=True)),
    ("show me more", C(something_else=True)),
    ("other options please", C(something_else=True)),
    ("cheaper", C(budget=True)),  # nothing to be cheaper than
    ("more expensive", C(premium=True)),
    # --- vague and odd input
    ("hi", C(vague=True)),
    ("help me", C(vague=True)),
    ("something nice?", C(vague=True)),
    ("what would you recommend?", C(vague=True)),
    ("", C(vague=True)),
    ("   \n\t ", C(vague=True)),
    ("🎁🎄😀", C(vague=True)),
    ("!!! ??? ...", C(vague=True)),
    ("1,299.99", C(vague=True)),
    ("lamps 😀 under 40€ 🎁", C(max_price=40.0, include={"category": ("lamps",)})),
    ("start over", C(vague=True)),
]


@pytest.mark.parametrize(("message", "expected"), CASES, ids=[m or "<empty>" for m, _ in CASES])
def test_one_message(message: str, expected: Constraints) -> None:
    assert read(message) == expected


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 60


# ---------------------------------------------------------------------------------------------------------------
# References to the session's events

T0 = datetime(2024, 6, 14, 10, tzinfo=UTC)
EVENTS = [
    ChatEvent(T0, "browse", "ST678VG", "Viewed workshop desk details page"),
    ChatEvent(T0 + timedelta(minutes=3), "click", "LAMP-1", "Clicked on product image", title="Lumora Brass Desk Lamp"),
    ChatEvent(T0 + timedelta(minutes=5), "view", "CHAIR-9", title="Sitwell Mesh Office Chair"),
    ChatEvent(T0 + timedelta(minutes=9), "search", None, "Searched for a sofa"),  # no item: never an anchor
]

REFERENCES: list[tuple[str, Constraints]] = [
    ("something like the desk I looked at", C(anchor_item_id="ST678VG")),  # not the (newer) Desk Lamp
    ("the lamp I clicked", C(anchor_item_id="LAMP-1")),
    ("the desk lamp I clicked on", C(anchor_item_id="LAMP-1")),
    ("similar to the one I viewed", C(anchor_item_id="CHAIR-9")),  # the newest event with an item
    ("that one", C(anchor_item_id="CHAIR-9")),
    ("the last one but in black", C(anchor_item_id="CHAIR-9", include={"color": ("black",)})),
    ("more like it", C(anchor_item_id="CHAIR-9", something_else=True)),
    ("a lamp that goes with the desk I viewed", C(anchor_item_id="ST678VG", include={"category": ("lamps",)})),
    ("the desk i've looked at, under $300", C(anchor_item_id="ST678VG", max_price=300.0)),
    ("like the sofa I looked at", C(text="sofa")),  # no event with that item: no anchor, the noun stays
    ("not that one", C(something_else=True)),
]


@pytest.mark.parametrize(("message", "expected"), REFERENCES, ids=[m for m, _ in REFERENCES])
def test_references_to_events(message: str, expected: Constraints) -> None:
    assert read(message, events=EVENTS) == expected


def test_references_without_events() -> None:
    assert read("something like the desk I looked at") == C(include={"category": ("desks",)})
    assert read("that one") == C(vague=True)
    only_searches = [ChatEvent(T0, "search", None, "desk")]
    assert read("the desk I viewed", events=only_searches).anchor_item_id is None


def test_reference_ties_go_to_the_newest_and_naive_timestamps_are_utc() -> None:
    events = [
        ChatEvent(datetime(2024, 1, 1, 12), "view", "old", title="Oak Desk"),  # naive: read as UTC
        ChatEvent(datetime(2024, 1, 2, tzinfo=UTC), "view", "new", title="Pine Desk"),
        ChatEvent(datetime(2023, 1, 1, tzinfo=UTC), "view", "older", title="Walnut Desk"),
    ]
    assert read("the desk I saw", events=events).anchor_item_id == "new"
    assert read("the oak desk I saw", events=events).anchor_item_id == "old"
    assert read("that one", events=events).anchor_item_id == "new"


# ---------------------------------------------------------------------------------------------------------------
# Refinement across turns


def chain(*turns: tuple[str, dict[str, Any]]) -> list[Constraints]:
    out: list[Constraints] = []
    for message, kwargs in turns:
        out.append(read(message, previous=out[-1] if out else None, **kwargs))
    return out


def test_gift_for_dad_refined_over_five_turns() -> None:
    dad = {"tags": ("for dad",)}
    steps = chain(
        ("gift for my dad", {}),
        ("under $50", {}),
        ("in black", {}),
        ("something else", {}),
        ("cheaper", {"shown_prices": [45.99, 39.99, 49.99]}),
    )
    assert steps == [
        C(include=dad, recipient="dad", gift=True),
        C(max_price=50.0, include=dad, recipient="dad", gift=True),
        C(max_price=50.0, include={**dad, "color": ("black",)}, recipient="dad", gift=True),
        C(max_price=50.0, include={**dad, "color": ("black",)}, recipient="dad", gift=True, something_else=True),
        C(max_price=50.0, include={**dad, "color": ("black",)}, recipient="dad", gift=True, cheaper_than=39.99),
    ]


def test_price_refinements() -> None:
    steps = chain(
        ("lamps under 100", {}),
        ("over 30", {}),  # adds a lower bound
        ("under 25", {}),  # replaces the cap; the old floor now crosses it and goes
        ("cheaper", {}),  # no shown prices: 80 % of the cap
        ("more expensive", {"shown_prices": [12.0, 19.0]}),
        ("around 40", {}),
    )
    lamps = {"category": ("lamps",)}
    assert steps == [
        C(max_price=100.0, include=lamps),
        C(min_price=30.0, max_price=100.0, include=lamps),
        C(max_price=25.0, include=lamps),
        C(max_price=25.0, include=lamps, cheaper_than=20.0),
        C(min_price=19.0, include=lamps),
        C(min_price=32.0, max_price=48.0, include=lamps),
    ]


def test_budget_and_premium_replace_each_other() -> None:
    steps = chain(("cheap desks", {}), ("something more premium", {}), ("under 300", {}), ("luxury", {}))
    desks = {"category": ("desks",)}
    assert steps == [
        C(budget=True, include=desks),
        C(premium=True, include=desks),
        C(premium=True, max_price=300.0, include=desks),
        C(premium=True, max_price=300.0, include=desks),
    ]


def test_new_category_replaces_and_other_properties_add() -> None:
    steps = chain(
        ("a desk for heavy tools", {}),
        ("with drawers", {}),  # a refinement: the text grows
        ("lamps instead", {}),  # a new category: replaces desks, and the text starts over
        ("not for kids", {}),
        ("actually kids are fine, in sky blue", {}),
    )
    assert steps == [
        C(text="heavy tools", include={"category": ("desks",)}),
        C(text="heavy tools drawers", include={"category": ("desks",)}),
        C(include={"category": ("lamps",)}),
        C(include={"category": ("lamps",)}, exclude={"audience": ("kids",)}),
        C(include={"category": ("lamps",), "audience": ("kids",), "color": ("sky blue",)}, recipient="kid"),
    ]


def test_a_new_recipient_replaces_the_old_value() -> None:
    first, second = chain(("birthday gift for my dad", {}), ("for my mom instead", {}))
    assert first.include == {"tags": ("birthday", "for dad")}
    assert second == C(include={"tags": ("for mom",)}, recipient="mom", occasion="birthday", gift=True)


def test_start_over_forgets_the_previous_turn() -> None:
    steps = chain(("toys for kids under $20", {}), ("start over, books for my mom", {}), ("forget that", {}))
    assert steps[1] == C(include={"category": ("books",), "tags": ("for mom",)}, recipient="mom")
    assert steps[2] == C(vague=True)


def test_a_vague_follow_up_keeps_the_constraints() -> None:
    first, second = chain(("black jackets under 200", {}), ("hmm", {}))
    assert second == C(max_price=200.0, include=first.include, vague=True)


def test_anchor_and_exclusions_carry_over() -> None:
    steps = chain(("like the desk I looked at", {"events": EVENTS}), ("without glass", {}), ("cheaper", {}))
    assert steps[-1] == C(anchor_item_id="ST678VG", exclude_words=("glass",), budget=True)


# ---------------------------------------------------------------------------------------------------------------
# The vocabulary from an artifact's columns


def test_from_columns_on_demo_items() -> None:
    items = generate_demo(seed=3, n_items=60, n_users=2, days=2).items
    ids = [item["id"] for item in items]
    columns = ItemColumns(build_item_columns(ids, {i["id"]: i["properties"] for i in items}), len(ids))
    vocabulary = CatalogVocabulary.from_columns(columns)
    assert sorted(vocabulary.values) == ["audience", "brand", "category", "color", "tags"]  # no title, no dates
    assert list(vocabulary.numeric) == ["price", "rating", "stock"]
    assert "running shoes" in vocabulary.values["category"]
    got = understand("a birthday gift for my dad, running shoes in black under $150", vocabulary)
    assert got.include["category"] == ("running shoes",)
    assert got.include["color"] == ("black",)
    assert got.max_price == 150.0 and got.recipient == "dad" and got.occasion == "birthday"
    assert understand("not for kids", vocabulary).exclude == {"audience": ("kids",)}
    only = CatalogVocabulary.from_columns(columns, properties=["title", "price", "missing"], max_values=10_000)
    assert list(only.values) == ["title"] and list(only.numeric) == ["price"]
    capped = CatalogVocabulary.from_columns(columns, max_values=8)
    assert "tags" not in capped.values and "category" not in capped.values and "audience" in capped.values


# ---------------------------------------------------------------------------------------------------------------
# Storage, helpers and robustness


def test_as_dict_round_trips_through_json() -> None:
    full = C(
        text="heavy tools",
        min_price=10.0,
        max_price=99.5,
        include={"category": ("desks",), "tags": ("for dad", "gift")},
        exclude={"audience": ("kids",)},
        exclude_words=("plastic",),
        recipient="dad",
        occasion="birthday",
        gift=True,
        budget=True,
        anchor_item_id="ST678VG",
        cheaper_than=42.0,
        something_else=True,
    )
    for constraints in (full, C(), read("hi")):
        assert Constraints.from_dict(json.loads(json.dumps(constraints.as_dict()))) == constraints
    assert Constraints.from_dict({"max_price": "12.5", "include": {"a": "b", "c": 3}, "gift": "yes", "x": 1}) == C(
        max_price=12.5, include={"a": ("b",)}
    )
    assert Constraints.from_dict({"min_price": float("nan"), "text": 3, "exclude_words": "abc"}) == C()


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        *[("books", "book"), ("toys", "toy"), ("batteries", "batteri"), ("battery", "batteri"), ("glasses", "glass")],
        *[("dress", "dress"), ("kids", "kid"), ("shoes", "shoe"), ("movies", "movi"), ("movie", "movi")],
        ("gas", "gas"),
    ],
)
def test_plural_fold(word: str, folded: str) -> None:
    assert stem(word) == folded


def test_find_prices_blanks_the_amounts_in_place() -> None:
    text = normalize("Lamps under $40, not red")
    blanked, low, high = find_prices(text)
    assert (low, high) == (None, 40.0) and len(blanked) == len(text) and "40" not in blanked


def test_long_and_random_messages_never_raise() -> None:
    long = "I need a gift for my dad, maybe a desk lamp in black under $1,299.99 but not for kids. " * 25
    assert len(long) > 2000
    got = read(long, events=EVENTS, shown_prices=[float("nan"), 10.0])
    assert got.max_price == 1299.99 and got.recipient == "dad" and got.exclude == {"audience": ("kids",)}
    pieces = ["under", "$", "1k", "-", "not", "no", "the", "desk", "i", "viewed", "it", "kids", "€5", "1,2", "but"]
    pieces += ["🎁", "\uff46\uff4f\uff52", "'s", "\u2019", "between", "and", "9" * 400, ".", ",", "~", "+"]
    pieces += ["fathers", "day", "gift", "something", "else", "cheaper", "start", "over", "that", "one"]
    rng = np.random.default_rng(7)
    for _ in range(300):
        message = " ".join(pieces[int(i)] for i in rng.integers(len(pieces), size=int(rng.integers(0, 30))))
        previous = read(message)
        result = read(message, previous=previous, events=EVENTS, shown_prices=[1.0, 2.0])
        assert isinstance(result, Constraints)
        json.dumps(result.as_dict())


def test_vocabulary_values_that_are_stop_words_or_short_do_not_match_loosely() -> None:
    vocabulary = CatalogVocabulary({"size": ["S", "M", "XL"], "tags": ["for", "new", "all"]})
    assert understand("something for all of us", vocabulary) == C(vague=True)
    assert understand("an xl one", vocabulary).include == {"size": ("XL",)}
    assert understand("new", vocabulary).include == {"tags": ("new",)}
    assert understand("size m", vocabulary) == C(text="size", include={"size": ("M",)})
