"""One chat turn (``reco.chat.service.chat_turn``, the domain behind POST /v1/chat) against the bare ranking bound.

Two catalogs, one table each; 1 BLAS thread, limit 4, a known user, no language model, in-memory stand-ins
for the stores (a warm model cache, the user's 50 recent events, a catalog of property dicts, no scenarios,
a decision log that drops records, a dict of conversations):

- **demo**: ``reco.demo.generate_demo()`` (400 items, 300 users), its events weighted by
  ``reco.training.dataset.build_interactions`` and an ALS trained in-process by ``ModelArtifact.train`` (as the
  training job does: columns, full-text and BM25 indexes from the items' properties);
- **100k**: the demo's item recipe (title, description, category, brand, tags, colour, audience, price, stock)
  drawn for 100,000 items, around ``bench.models.synthetic``'s 64-factor ALS, with columns, full-text and BM25
  indexes built from those properties.

Rows: ``bound`` (bare numpy ``item_factors @ user`` + ``argpartition`` top 4); four turns (a first turn, the next
turn of that conversation, a gift wish, a reference to an item of the request's events); and two pieces alone:
``understand()`` of the first message (warm vocabulary) and ``BM25Index.scores`` of the same message.
``--quick``: the demo catalog only, 100 runs; ``--profile [ROW]``: cProfile of the rows whose name starts with
ROW (default: every turn), top functions by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import math
import os
import pstats
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import numpy as np

from bench.models import blas_limit, bound_top, synthetic
from bench.standins import DroppedDecisions, NoScenarios, OneModel, UserEvents
from bench.timing import peak_kib, timed
from reco.chat.conversations import Conversation, Turn
from reco.chat.service import ChatServices, chat_turn
from reco.chat.understanding import CatalogVocabulary, understand
from reco.demo import AUDIENCE_PHRASES, CATEGORIES, COLORS, DEFAULT_NOW, KEYWORD_TAGS, OCCASIONS, generate_demo
from reco.identity import Identity, Role
from reco.models.als import ALS
from reco.models.artifact import ModelArtifact
from reco.models.bm25 import build_bm25_index
from reco.models.columns import build_item_columns
from reco.models.text_index import build_text_index
from reco.recommendations.service import RecommendationServices
from reco.records import Event, Item, User
from reco.schemas.chat import ChatRequest, ChatResponse
from reco.schemas.models import DEFAULT_EVENT_WEIGHTS
from reco.serving.cache import ModelCache
from reco.training.dataset import build_interactions

TENANT, LIMIT, ROUNDS, N_EVENTS = "bench", 4, 5, 50
CALLER = Identity(TENANT, frozenset({Role.FRONTEND}), subject="bench-shopper")  # a browser's turns
FIRST, CHEAPER = "a black jacket under $50", "cheaper"
GIFT, ANCHORED = "something for my dad's birthday", "like the desk I looked at"
BIG, BIG_USER = 100_000, "user-00007"  # bench.models.synthetic's users are user-00000 …
BIG_DATA_UNTIL = datetime(2026, 1, 1, tzinfo=UTC)
BIG_NOW = BIG_DATA_UNTIL + timedelta(days=1)


# ---------------------------------------------------------------------------------------------------------------
# The two catalogs


@dataclasses.dataclass
class Shop:
    name: str
    artifact: ModelArtifact
    properties: dict[str, dict[str, Any]]
    user: str
    events: list[Event]  # the user's stored events, newest first
    now: datetime


def demo_shop() -> Shop:
    """generate_demo()'s items and events, an ALS trained on them as the training job does."""
    data = generate_demo()
    properties = {item["id"]: item["properties"] for item in data.items}
    events = [
        Event(
            e["event_id"],
            e["item_id"],
            e["type"],
            datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")),
            user_id=e["user_id"],
            value=e.get("value"),
        )
        for e in data.events
    ]
    interactions = build_interactions(events, DEFAULT_EVENT_WEIGHTS, properties)
    metadata = {"data_until": float(interactions.timestamps.max()), "event_weights": dict(DEFAULT_EVENT_WEIGHTS)}
    artifact = ModelArtifact.train("als", None, interactions, properties, metadata=metadata)
    user = Counter(e.user_id for e in events).most_common(1)[0][0]  # the most active shopper
    mine = sorted((e for e in events if e.user_id == user), key=lambda e: e.timestamp, reverse=True)
    return Shop("demo", artifact, properties, str(user), mine[:N_EVENTS], DEFAULT_NOW)


def catalog(n: int, rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    """reco.demo's item recipe for ``n`` items, drawn at once (titles repeat: the demo's redraw is per item)."""
    cats, colors = rng.integers(0, len(CATEGORIES), n), rng.integers(0, len(COLORS), n)
    picks = rng.integers(0, 2**30, (n, 6)).tolist()  # brand, product, adjective, use, audience, occasion
    has_adjective, gift = (rng.random(n) < 0.6).tolist(), (rng.random(n) < 0.35).tolist()
    position, extra = rng.random(n).tolist(), rng.random((n, 8)).tolist()
    stock = np.where(rng.random(n) < 0.1, 0, rng.integers(1, 250, n)).tolist()
    audiences = dict(AUDIENCE_PHRASES)
    items = {}
    for i, (c, k) in enumerate(zip(cats.tolist(), colors.tolist(), strict=True)):
        spec, pick = CATEGORIES[c], picks[i]
        brand, (material, noun) = spec.brands[pick[0] % len(spec.brands)], spec.products[pick[1] % len(spec.products)]
        adjective = spec.adjectives[pick[2] % len(spec.adjectives)] + " " if has_adjective[i] else ""
        title = f"{brand} {adjective}{material} {noun}"
        audience, color = spec.audiences[pick[4] % len(spec.audiences)], COLORS[k]
        rest = spec.tags[1:]
        chosen = [t for t, x in zip(rest, extra[i], strict=False) if x < 1.5 / len(rest)] or [rest[pick[3] % len(rest)]]
        tags = [spec.tags[0], *chosen[:2], *(tag for word, tag in KEYWORD_TAGS if word in title)]
        tags += {"kids": ["kids"], "men": ["for dad"], "women": ["for mom"]}.get(audience, [])
        phrase = f"{material} {noun}".lower()
        article = "" if noun.endswith("s") else "An " if phrase[0] in "aeiou" else "A "
        description = f"{article}{phrase} {spec.uses[pick[3] % len(spec.uses)]}, in {color}. "
        description = description[0].upper() + description[1:] + audiences[audience]
        if gift[i]:
            occasion, occasion_phrase = OCCASIONS[pick[5] % len(OCCASIONS)]
            tags += ["gift", occasion]
            description += f", and a thoughtful gift for {occasion_phrase}."
        else:
            description += "."
        lo, hi = math.log(spec.price[0]), math.log(spec.price[1])
        items[f"item-{i:07d}"] = {
            "title": title,
            "description": description,
            "category": spec.name,
            "brand": brand,
            "price": math.floor(math.exp(lo + position[i] * (hi - lo))) + 0.99,
            "stock": stock[i],
            "color": color,
            "tags": list(dict.fromkeys(tags)),
            "audience": audience,
        }
    return items


def big_shop(n: int, rng: np.random.Generator) -> Shop:
    """bench.models' synthetic ALS over ``n`` items, with the catalog's columns, full-text and BM25 indexes."""
    base, properties = synthetic(n, rng), catalog(n, rng)
    artifact = dataclasses.replace(
        base,
        user_ids=np.char.add("u#", base.user_ids),  # reco.training.dataset.USER_PREFIX
        metadata={"data_until": BIG_DATA_UNTIL.timestamp(), "event_weights": dict(DEFAULT_EVENT_WEIGHTS)},
        trending=rng.random(n, dtype=np.float32),
        item_columns=build_item_columns(base.item_ids, properties),
        text_index=build_text_index(base.item_ids, properties),
        bm25_index=build_bm25_index(base.item_ids, properties),
    )
    # 50 events on 25 items every 2 hours back from BIG_NOW: the 12 newer than the model are folded in
    step = n // 25 - 1
    events = []
    for i in range(N_EVENTS):
        kind = "purchase" if i % 10 == 3 else "add_to_cart" if i % 5 == 1 else "view"
        at = BIG_NOW - timedelta(hours=2 * i + 0.5)
        events.append(Event(f"ev-{i:03d}", f"item-{(i % 25) * step:07d}", kind, at, user_id=BIG_USER))
    return Shop("synthetic", artifact, properties, BIG_USER, events, BIG_NOW)


# ---------------------------------------------------------------------------------------------------------------
# In-memory stand-ins for the stores


class Catalog:
    """CatalogReader and ItemDetailsReader over the properties in memory (no deserialisation cost)."""

    def __init__(self, properties: dict[str, dict[str, Any]], updated_at: datetime) -> None:
        self.properties, self.updated_at = properties, updated_at

    def get_item(self, tenant: str, item_id: str) -> Item | None:
        found = self.properties.get(item_id)
        return None if found is None else Item(item_id, found, self.updated_at)

    def get_user(self, tenant: str, user_id: str) -> User | None:
        return User(user_id, {})

    def get_items(self, tenant: str, item_ids: Sequence[str]) -> dict[str, Item]:
        return {i: Item(i, self.properties[i], self.updated_at) for i in item_ids if i in self.properties}


class Conversations:
    """ConversationRepository in a dict; ``restore`` puts a conversation back as it was (to time one turn again)."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], Conversation] = {}

    def get(self, tenant: str, conversation_id: str) -> Conversation | None:
        return self.stored.get((tenant, conversation_id))

    def append(self, tenant: str, conversation: Conversation, turn: Turn) -> bool:
        key = (tenant, conversation.conversation_id)
        current = self.stored.get(key)
        if turn.number != (len(current.turns) if current is not None else 0) + 1:
            return False
        self.stored[key] = dataclasses.replace(conversation, turns=[*conversation.turns, turn])
        return True

    def restore(self, tenant: str, conversation: Conversation) -> None:
        self.stored[(tenant, conversation.conversation_id)] = conversation


# ---------------------------------------------------------------------------------------------------------------
# The rows


def first_of(properties: dict[str, dict[str, Any]], category: str) -> str:
    return next(item_id for item_id, p in properties.items() if p["category"] == category)


def paths(shop: Shop) -> tuple[list[tuple[str, Callable[[], Any]]], list[str]]:
    """The rows' callables, and what each turn answered (checked once before timing)."""
    artifact, properties = shop.artifact, shop.properties
    model = artifact.model
    assert isinstance(model, ALS)
    user_row = artifact.user_row("u#" + shop.user)
    assert user_row is not None, "the user must be known to the model"
    vector = model.user_factors[user_row]
    catalog_reader = Catalog(properties, shop.now)
    conversations = Conversations()
    recommendations = RecommendationServices(
        cast(ModelCache, OneModel(artifact)),
        UserEvents(shop.user, shop.events),
        catalog_reader,
        NoScenarios(),
        DroppedDecisions(),
    )
    services = ChatServices(recommendations, conversations, catalog_reader)

    def turn(request: ChatRequest) -> ChatResponse:
        return chat_turn(CALLER, request, services, request_id="req_bench", now=shop.now)

    first = ChatRequest(message=FIRST, user_id=shop.user, limit=LIMIT)
    opened = turn(first)
    after_first = conversations.get(TENANT, opened.conversation_id)
    assert after_first is not None and len(after_first.turns) == 1
    second = ChatRequest(message=CHEAPER, conversation_id=opened.conversation_id, limit=LIMIT)

    def next_turn() -> ChatResponse:
        conversations.restore(TENANT, after_first)  # every run is turn 2 of the same conversation
        return turn(second)

    minutes = [(3, "chairs"), (9, "desks"), (14, "lamps")]  # the session, newest first: a chair, the desk, a lamp
    browsed = [
        {"timestamp": (shop.now - timedelta(minutes=m)).isoformat(), "type": "browse", "item_id": item_id}
        for m, item_id in ((m, first_of(properties, c)) for m, c in minutes)
    ]
    gift = ChatRequest(message=GIFT, user_id=shop.user, limit=LIMIT)
    anchored = ChatRequest(message=ANCHORED, user_id=shop.user, limit=LIMIT, events=browsed)
    vocabulary = CatalogVocabulary.from_columns(artifact.columns)
    rows: list[tuple[str, Callable[[], Any]]] = [
        (
            f"bound: item_factors @ user + argpartition top {LIMIT}",
            lambda: bound_top(model.item_factors @ vector, LIMIT),
        ),
        (f'turn: "{FIRST}"', lambda: turn(first)),
        (f'turn 2: "{CHEAPER}"', next_turn),
        (f'turn: "{GIFT}"', lambda: turn(gift)),
        (f'turn with events: "{ANCHORED}"', lambda: turn(anchored)),
        ("understand() alone (first message)", lambda: understand(FIRST, vocabulary)),
        ("BM25 scores() alone (first message)", lambda: artifact.bm25.scores(FIRST)),
    ]
    checked = []
    for (name, fn), request in zip(rows[1:5], (first, second, gift, anchored), strict=True):
        response = fn()
        assert response.items or response.message, name
        stored = conversations.get(TENANT, response.conversation_id)
        assert stored is not None and stored.turns[-1].message == request.message
        constraints = stored.turns[-1].constraints
        anchor = constraints["anchor_item_id"]
        text = repr(constraints["text"]) + (f", anchor {properties[anchor]['title']}" if anchor else "")
        shown = ", ".join(f"{i.title} ${i.price}" for i in response.items[:2])
        more = ", …" if len(response.items) > 2 else ""
        checked.append(f"{name}: {len(response.items)} items [{shown}{more}], text {text}, reply {response.message!r}")
    return rows, checked


def measure(rows: list[tuple[str, Callable[[], Any]]], repeats: int) -> list[tuple[str, float, float, float]]:
    samples: dict[str, list[float]] = {name: [] for name, _ in rows}
    for _ in range(ROUNDS):  # interleaved, so that a busy host slows every path alike
        for name, fn in rows:
            samples[name] += timed(fn, repeats // ROUNDS)
    out = []
    for name, fn in rows:
        got = [s / 1e3 for s in samples[name]]
        out.append((name, statistics.median(got), statistics.quantiles(got, n=20)[18], peak_kib(fn)))
    return out


def repeat(fn: Callable[[], Any], runs: int) -> None:
    for _ in range(runs):
        fn()


def profile(shop: Shop, rows: list[tuple[str, Callable[[], Any]]], prefix: str, runs: int) -> None:
    for name, fn in rows:
        if not name.startswith(prefix):
            continue
        profiler = cProfile.Profile()
        profiler.runcall(repeat, fn, runs)
        print(f"\n=== {shop.name}: {name}, {runs} runs")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the demo catalog only, 100 runs: a smoke test")
    parser.add_argument("--profile", nargs="?", const="turn", metavar="ROW", help="cProfile rows named ROW…")
    args = parser.parse_args()
    started = time.perf_counter()
    repeats = 100 if args.quick else int(os.environ.get("BENCH_REPEATS", "300"))
    shops = [demo_shop()]
    if not args.quick:
        shops.append(big_shop(BIG, np.random.default_rng(0)))
    built = time.perf_counter() - started
    # The stand-in catalog's property dicts live in this process (in production they are in DynamoDB):
    # frozen out of the cyclic GC, so that its full collections do not walk them mid-request.
    gc.collect()
    gc.freeze()
    with blas_limit(1):
        for shop in shops:
            rows, checked = paths(shop)
            if args.profile:
                profile(shop, rows, args.profile, 100 if len(shop.artifact.item_ids) > 10_000 else 300)
            results = measure(rows, repeats)
            bound = results[0][1]
            n_items, n_users = len(shop.artifact.item_ids), len(shop.artifact.user_ids)
            kind = "ALS trained in-process" if shop.name == "demo" else "bench.models' synthetic ALS"
            print(f"\nChat turn (chat_turn), {shop.name} catalog: {n_items:,} items, {n_users:,} users ({kind},")
            print(f"64 float32 factors); user {shop.user} with {len(shop.events)} stored events; no language model;")
            rounds = f"{repeats} runs in {ROUNDS} interleaved rounds"
            print(f"1 BLAS thread, limit {LIMIT}; {rounds}; {os.cpu_count()} cores")
            print("| path | median ms | p95 ms | peak KiB | ratio to bound |\n| --- | ---: | ---: | ---: | ---: |")
            for name, median, p95, peak in results:
                print(f"| {name} | {median:,.3f} | {p95:,.3f} | {peak:,.0f} | {median / bound:,.2f} |")
            print("checked:\n- " + "\n- ".join(checked))
    print(f"\nsetup {built:.1f} s, total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
