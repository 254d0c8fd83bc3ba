"""GET /v1/recommendations' domain function over a 100k-item catalog, against the bare ranking bound, in one run.

Per request, 64 float32 factors, 1 BLAS thread, a known user, top 20 (the API's default limit), over
bench.scenarios' synthetic ALS artifact (property columns and a full-text index) and in-memory stand-ins
for the stores. The user's 50 recent events (25 items, views with some carts and purchases, every 2 hours)
reach 4 days back; the 12 newer than the model are folded into the scores, as in production.
- ``bound``: bare numpy, ``item_factors @ user`` + ``argpartition`` + sort of the top 20;
- ``list (single)``: ``recommendation_list``, no filters: scoring, ranking, explanations (anchors via
  ``Recommender.contributions``), item details from the stand-in catalog, rendering, the decision;
- ``list + 5 filters``: the same with five shorthand filters (any of 10 categories, a price cap, in stock,
  OR any of 40 brands, no refurbished tag), evaluated per request by ``filters_mask``;
- ``list, page 3``: ``starting_after`` = the second page's ``next_cursor`` (ranked down to 61 rows);
- ``list grouped``: a context grouping by ``category``, 10 groups of 3 items (ranked down to MAX_DEPTH);
- ``auto section``: ``mode=auto``, first call (the "because you viewed" section of the newest item);
- ``explanations``: ``reco.lists.explain.anchors`` alone, for the 20 rows of the single list.
500 runs (``BENCH_REPEATS``); ``--quick``: 10k items and 50 runs (a smoke test); ``--profile [ROW]``:
cProfile of one row (default ``list (single)``) and the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import functools
import gc
import os
import pstats
import statistics
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, cast

import numpy as np

from bench.models import USERS, blas_limit, bound_top, synthetic
from bench.scenarios import DATA_UNTIL, catalog
from bench.standins import DroppedDecisions, NoScenarios, OneModel, UserEvents
from bench.timing import peak_kib, timed
from reco.lists.explain import anchors, strongest_interactions
from reco.lists.filters import filters_mask, parse_filter
from reco.lists.query import ListQuery, ListServices
from reco.lists.service import recommendation_list
from reco.models.als import ALS
from reco.models.artifact import ModelArtifact
from reco.models.columns import build_item_columns
from reco.models.text_index import build_text_index
from reco.recommendations.facts import SCORED_EVENTS
from reco.recommendations.service import RecommendationServices
from reco.records import Event, Item, User
from reco.schemas.lists import Context, Recommendation, RecommendationGroup, RecommendationList
from reco.schemas.models import DEFAULT_EVENT_WEIGHTS
from reco.serving.cache import ModelCache
from reco.serving.scoring import score_candidates

K, USER, USER_ROW, ROUNDS, TENANT, CONTEXT_ID = 20, "user-00007", 7, 5, "bench", "101"
NOW = DATA_UNTIL + timedelta(days=1)
N_EVENTS, N_EVENT_ITEMS = 50, 25
FILTERS = (
    "category:" + "|".join(f"cat-{c:02d}" for c in range(0, 50, 5)),
    "price<=150",
    "in_stock:true",
    "OR:brand:" + "|".join(f"brand-{b:03d}" for b in range(0, 500, 12)[:40]),
    "tags!=refurbished",
)
PROFILED = "list (single)"


def shop(n: int, rng: np.random.Generator) -> tuple[ModelArtifact, dict[str, dict[str, Any]]]:
    """bench.scenarios' artifact (columns, title index), trained-model metadata, and its catalog's properties."""
    base, items = synthetic(n, rng), catalog(n, rng)
    artifact = dataclasses.replace(
        base,
        user_ids=np.char.add("u#", base.user_ids),  # reco.training.dataset.USER_PREFIX
        metadata={"data_until": DATA_UNTIL.timestamp(), "event_weights": dict(DEFAULT_EVENT_WEIGHTS)},
        trending=rng.random(n, dtype=np.float32),
        item_columns=build_item_columns(base.item_ids, items),
        text_index=build_text_index(base.item_ids, items),
    )
    return artifact, items


def recent_events(n_items: int) -> list[Event]:
    """The user's 50 newest events, newest first: 25 items, each twice, every 2 hours back from NOW."""
    step = max(1, n_items // N_EVENT_ITEMS - 1)
    events = []
    for i in range(N_EVENTS):
        kind = "purchase" if i % 10 == 3 else "add_to_cart" if i % 5 == 1 else "view"
        at = NOW - timedelta(hours=2 * i + 0.5)
        events.append(Event(f"ev-{i:03d}", f"item-{(i % N_EVENT_ITEMS) * step:07d}", kind, at, user_id=USER))
    return events


class Catalog:
    """CatalogReader and ItemDetailsReader: items built on request from the synthetic properties."""

    def __init__(self, properties: dict[str, dict[str, Any]]) -> None:
        self.properties = properties

    def _item(self, item_id: str) -> Item | None:
        found = self.properties.get(item_id)
        if found is None:
            return None
        title = found["title"]
        brand = found.get("brand", "an unbranded maker")
        text = f"The {title} from {brand}, in {found['category']}; {found['year']} model, {found['price']:.2f} EUR."
        return Item(item_id, {"name": title.title(), "description": text, **found}, DATA_UNTIL)

    def get_item(self, tenant: str, item_id: str) -> Item | None:
        return self._item(item_id)

    def get_user(self, tenant: str, user_id: str) -> User | None:
        return User(user_id, {"segment": "b2c", "segments": ["newsletter"]})

    def get_items(self, tenant: str, item_ids: Sequence[str]) -> dict[str, Item]:
        found = {item_id: self._item(item_id) for item_id in item_ids}
        return {item_id: item for item_id, item in found.items() if item is not None}


class Contexts:
    """ContextRepository: one context, grouping by category."""

    def __init__(self) -> None:
        stamp = "2026-01-01T00:00:00.000Z"
        body = {"name": "Home, by category", "group_by": "category", "group_size": 3, "limit": 10}
        self.context = Context.model_validate({**body, "id": CONTEXT_ID, "created_at": stamp, "updated_at": stamp})

    def get(self, tenant: str, context_id: str) -> Context | None:
        return self.context if context_id == CONTEXT_ID else None

    def put(self, tenant: str, context: Context) -> None:
        raise NotImplementedError

    def delete(self, tenant: str, context_id: str) -> bool:
        raise NotImplementedError

    def page(self, tenant: str, limit: int, cursor: str | None) -> tuple[list[Context], str | None]:
        raise NotImplementedError


def flat(response: RecommendationList) -> list[Recommendation]:
    return [m for d in response.data for m in (d.items if isinstance(d, RecommendationGroup) else [d])]


def check(name: str, response: RecommendationList) -> str:
    """Refuses a response that does not show what the row claims to time; a one-line description."""
    shown = flat(response)
    assert response.data, f"{name}: empty list"
    if "grouped" in name:
        assert len(response.data) == 10 and all(len(g.items) == 3 for g in response.data if hasattr(g, "items"))
    else:
        assert len(response.data) == K, f"{name}: {len(response.data)} items"
    personal = [m for m in shown if m.explanation.anchor is not None]
    assert response.mode == "auto" or len(personal) == len(shown), f"{name}: rows without an anchor"
    assert all(m.item.name for m in shown), f"{name}: item details missing"
    section = f", section {response.section.type}" if response.section is not None else ""
    return f"{name}: {len(response.data)} entries, ranks {shown[0].rank}…{shown[-1].rank}{section}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k items and 50 runs: a smoke test")
    parser.add_argument("--profile", nargs="?", const=PROFILED, metavar="ROW", help="cProfile ROW (a name prefix)")
    args = parser.parse_args()
    n_items = 10_000 if args.quick else 100_000
    repeats = 50 if args.quick else int(os.environ.get("BENCH_REPEATS", "500"))
    rng = np.random.default_rng(0)
    artifact, properties = shop(n_items, rng)
    model = artifact.model
    assert isinstance(model, ALS)
    vector = model.user_factors[USER_ROW]
    events = recent_events(n_items)
    items = Catalog(properties)
    models = cast(ModelCache, OneModel(artifact, version=3))  # serving() is all a list request asks of it
    recommendations = RecommendationServices(models, UserEvents(USER, events), items, NoScenarios(), DroppedDecisions())
    services = ListServices(recommendations, Contexts(), items)

    def request(query: ListQuery) -> RecommendationList:
        return recommendation_list(TENANT, query, services, subject=None, request_id="req_bench", now=NOW)

    single = ListQuery(user_id=USER, limit=K)
    filtered = ListQuery(user_id=USER, limit=K, filters=FILTERS)
    cursor = request(single).next_cursor
    assert cursor is not None
    second = request(dataclasses.replace(single, starting_after=cursor)).next_cursor
    assert second is not None
    third = dataclasses.replace(single, starting_after=second)
    grouped = ListQuery(user_id=USER, context_id=CONTEXT_ID)
    auto = ListQuery(user_id=USER, limit=K, mode="auto")

    # anchors alone: the single list's rows, score source and interactions, as render_items passes them
    shown = artifact.item_rows([m.item_id for m in flat(request(single))])
    ordered = sorted(events, key=lambda e: e.timestamp, reverse=True)
    _, source = score_candidates(artifact, USER, ordered[:SCORED_EVENTS], None)
    interactions = strongest_interactions(ordered, artifact.metadata["event_weights"])
    assert all(a is not None for a in anchors(artifact, source, shown, interactions))

    queries = {
        "list (single)": single,
        "list + 5 filters": filtered,
        "list, page 3": third,
        "list grouped (10 groups of 3)": grouped,
        "auto section (first call)": auto,
    }
    paths: list[tuple[str, Callable[[], Any]]] = [
        (f"bound: item_factors @ user + argpartition top {K}", lambda: bound_top(model.item_factors @ vector, K))
    ]
    notes = []
    for name, query in queries.items():
        notes.append(check(name, request(query)))
        paths.append((name, functools.partial(request, query)))
    paths.append((f"explanations: anchors alone ({K} rows)", lambda: anchors(artifact, source, shown, interactions)))
    n_filtered = int(filters_mask([parse_filter(f) for f in FILTERS], artifact.columns, artifact.texts).sum())
    # The stand-in catalog's 100k property dicts live in this process (in production they are in
    # DynamoDB): frozen out of the cyclic GC, so its full collections do not walk them mid-request.
    gc.collect()
    gc.freeze()
    rows = []
    with blas_limit(1):
        if args.profile:
            chosen = next(fn for name, fn in paths if name.startswith(args.profile))
            profile = cProfile.Profile()
            profile.runcall(lambda: [chosen() for _ in range(100 if args.quick else 200)])
            for key in ("tottime", "cumulative"):
                pstats.Stats(profile).sort_stats(key).print_stats(20)
        samples: dict[str, list[float]] = {name: [] for name, _ in paths}
        for _ in range(ROUNDS):  # interleaved, so that a busy host slows every path alike
            for name, fn in paths:
                samples[name] += timed(fn, repeats // ROUNDS)
        for name, fn in paths:
            got = [s / 1e3 for s in samples[name]]
            rows.append((name, statistics.median(got), statistics.quantiles(got, n=20)[18], peak_kib(fn)))
    bound = rows[0][1]
    print(f"GET /v1/recommendations (recommendation_list) over {n_items:,} items (synthetic ALS, {USERS:,} users,")
    print(f"64 float32 factors); a known user with {N_EVENTS} recent events; {n_filtered:,} items pass the 5 filters;")
    print(f"1 BLAS thread, limit {K}; {repeats} runs in {ROUNDS} interleaved rounds; {os.cpu_count()} cores")
    print("| path | median ms | p95 ms | peak KiB | ratio to bound |\n| --- | ---: | ---: | ---: | ---: |")
    for name, median, p95, peak in rows:
        print(f"| {name} | {median:,.3f} | {p95:,.3f} | {peak:,.0f} | {median / bound:.2f} |")
    by_name = {name: median for name, median, _, _ in rows}
    share = by_name[rows[-1][0]] / by_name["list (single)"]
    print(f"explanations (anchors) are {share:.0%} of a single-mode request")
    print("checked: " + "; ".join(notes))


if __name__ == "__main__":
    main()
