"""A scenario-driven recommendation over a 100k-item catalog, against the bare ranking bound, in one run.

Per request, 64 float32 factors, 1 BLAS thread, a known user, top 10 (bench.models' synthetic ALS):
- ``bound``: bare numpy, ``item_factors @ user`` + ``argpartition`` + sort of the top 10;
- ``bound + 10 masks``: the same, after the case's 10 filters as hand-written numpy masks;
- ``resolve``: ``resolve_scenario`` through alias → condition (runtime param) → A/B test → alias →
  case, from an in-memory source (parsed scenarios, as a warm store cache holds them);
- ``case run``: ``score_candidates`` + ``run_case`` (10 filters, exclude_rated_items, diversity on
  ``category``, depth 11: a page of 10 plus one, as ``recommend_items`` asks);
- ``scenario request``: both on one fresh ``RequestFacts``; then with two filters ``disable_preload``,
  and with a 2-block ``case_sequence``.
``--quick``: 10k items and 50 runs (a smoke test); ``--profile``: cProfile of the scenario request.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import functools
import os
import pstats
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bench.models import USERS, blas_limit, bound_top, synthetic
from bench.timing import peak_kib, timed
from reco.models.als import ALS
from reco.models.artifact import ModelArtifact
from reco.models.columns import build_item_columns
from reco.models.text_index import build_text_index
from reco.recommendations.case import run_case
from reco.recommendations.facts import Requester, RequestFacts
from reco.records import Event, Item, Page, User
from reco.scenarios.engine import resolve_scenario
from reco.schemas.scenarios import Case, Scenario
from reco.serving.scoring import score_candidates

K, DEPTH, USER, ROUNDS = 10, 11, "user-00007", 5
DATA_UNTIL = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = ("wireless", "classic", "compact", "pro", "organic", "deluxe", "mini", "smart", "eco", "ultra", "steel", "soft")
NOUNS = ("speaker", "lamp", "kettle", "jacket", "chair", "watch", "backpack", "mug", "drone", "blender")
TAGS = ("sale", "new", "bestseller", "refurbished", "eco", "gift", "limited", "bundle")
FILTERS: list[dict[str, Any]] = [
    {"property_name": "category", "op": "in", "value": [f"cat-{c:02d}" for c in range(0, 50, 2)]},
    {"property_name": "brand", "op": "neq", "value": "brand-007"},
    {"property_name": "brand", "op": "notin", "value": ["brand-011", "brand-013", "brand-017"]},
    {"property_name": "brand", "op": "notempty"},
    {"property_name": "clearance", "op": "empty"},
    {"property_name": "year", "op": "gte", "value": 1995},
    {"property_name": "price", "op": "lte", "value": 150.0},
    {"property_name": "in_stock", "op": "eq", "value": True},
    {"property_name": "tags", "op": "notin", "value": ["refurbished"]},
    {"property_name": "title", "op": "ftsearch", "value": "wireless"},
]
DIVERSITY = {"property_name": "category", "op": "diversity", "weight": 1.0, "options": {"activation_period": 3}}
POST = ("tags", "title")  # the two filters set to disable_preload in that variant


def catalog(n: int, rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    """category (50 values), brand (500, 2% missing), clearance (10, on 10%), year, price, in_stock, tags, title."""
    category, brand, clearance = rng.integers(0, 50, n), rng.integers(0, 500, n), rng.integers(0, 10, n)
    has_brand, on_clearance = rng.random(n) >= 0.02, rng.random(n) < 0.1
    year, price, stock = rng.integers(1985, 2026, n), np.round(rng.lognormal(3.5, 0.8, n), 2), rng.random(n) < 0.85
    tags, words = (rng.random((n, len(TAGS))) < 0.15).tolist(), rng.integers(0, len(WORDS), (n, 2)).tolist()
    nouns = rng.integers(0, len(NOUNS), n).tolist()
    items = {}
    for i in range(n):
        item: dict[str, Any] = {"category": f"cat-{category[i]:02d}", "year": int(year[i]), "price": float(price[i])}
        item.update(in_stock=bool(stock[i]), tags=[t for t, on in zip(TAGS, tags[i], strict=True) if on])
        item["title"] = f"{WORDS[words[i][0]]} {WORDS[words[i][1]]} {NOUNS[nouns[i]]} {i}"
        if has_brand[i]:
            item["brand"] = f"brand-{brand[i]:03d}"
        if on_clearance[i]:
            item["clearance"] = f"reason-{clearance[i]}"
        items[f"item-{i:07d}"] = item
    return items


def shop(n: int, rng: np.random.Generator) -> ModelArtifact:
    """bench.models' synthetic ALS artifact, with the catalog's columns and full-text index."""
    base, items = synthetic(n, rng), catalog(n, rng)
    return dataclasses.replace(
        base,
        user_ids=np.char.add("u#", base.user_ids),  # reco.training.dataset.USER_PREFIX
        metadata={"data_until": DATA_UNTIL.timestamp()},
        item_columns=build_item_columns(base.item_ids, items),
        text_index=build_text_index(base.item_ids, items),
    )


class Events:
    """EventReader: the user's 20 newest events (older than the model, so not folded into the scores)."""

    def __init__(self, item_ids: list[str]) -> None:
        hour = timedelta(hours=1)
        self.events = [Event(f"e{i}", item, "view", DATA_UNTIL - (i + 1) * hour) for i, item in enumerate(item_ids)]

    def recent_page(
        self, tenant: str, *, user_id: str | None = None, session_id: str | None = None, limit: int = 50
    ) -> Page[Event]:
        return Page(self.events[:limit] if user_id == USER else [])


class Catalog:
    def get_item(self, tenant: str, item_id: str) -> Item | None:
        return None

    def get_user(self, tenant: str, user_id: str) -> User | None:
        return User(user_id, {"segment": "b2c"})


class Source:
    """ScenarioSource over parsed scenarios; no default scenario (the 5-deep flow is all there is)."""

    def __init__(self, case: dict[str, Any]) -> None:
        docs: dict[str, dict[str, Any]] = {
            "home": {"scenario_type": "alias", "alias": {"scenario_name": "home_split"}},
            "home_split": {
                "scenario_type": "condition",
                "condition": {
                    "condition_type": "runtime_param",
                    "if": {"param_name": "page", "op": "eq", "value": "home"},
                    "then": "home_ab",
                    "else": "fallback",
                },
            },
            "home_ab": {"scenario_type": "ab_test", "ab_test": {"id": "t1", "scenario_a": "a", "scenario_b": "b"}},
            "a": {"scenario_type": "alias", "alias": {"scenario_name": "home_case"}},
            "b": {"scenario_type": "alias", "alias": {"scenario_name": "home_case"}},
            "home_case": {"scenario_type": "case", "case": case},
            "fallback": {"scenario_type": "case", "case": {"amt": K}},
        }
        self.scenarios = {name: Scenario.model_validate(doc) for name, doc in docs.items()}

    def scenario(self, reco_type: str, name: str) -> Scenario | None:
        return self.scenarios.get(name)

    def default_name(self, reco_type: str) -> str | None:
        return None


def cases() -> dict[str, dict[str, Any]]:
    base: dict[str, Any] = {"amt": K, "exclude_rated_items": True, "filters": FILTERS, "reranking": [DIVERSITY]}
    post = [{**f, "disable_preload": f["property_name"] in POST} for f in FILTERS]
    blocks = [{"amt": 3, "filters": [{"property_name": "tags", "op": "in", "value": ["sale"]}]}, {"amt": K - 3}]
    return {
        "": base,
        ", 2 filters disable_preload": {**base, "filters": post},
        ", 2-block case_sequence": {**base, "case_sequence": {"sequence": blocks}},
    }


def history(n: int) -> list[str]:
    """The user's 20 items (exclude_rated_items removes them)."""
    return [f"item-{r:07d}" for r in range(0, 20 * 997, 997) if r < n]


def bare_masks(artifact: ModelArtifact) -> tuple[Callable[[], Any], int]:
    """The 10 filters and the exclusions as hand-written numpy over the same columns, and the items left."""
    col, fts = artifact.item_columns, artifact.text_index
    codes = {name: {str(v): c for c, v in enumerate(col[f"{name}/vocab"])} for name in ("category", "brand", "tags")}
    wanted = np.zeros(len(codes["category"]) + 1, bool)
    wanted[[codes["category"][v] for v in FILTERS[0]["value"]]] = True
    brand_out = np.zeros(len(codes["brand"]) + 1, bool)
    brand_out[[codes["brand"][v] for v in ("brand-007", "brand-011", "brand-013", "brand-017")]] = True
    brand_out[-1] = True  # code -1: missing
    owners = np.repeat(np.arange(len(artifact.item_ids)), np.diff(col["tags/indptr"]))
    token = int(np.searchsorted(fts["title/tokens"], "wireless"))
    posting = fts["title/rows"][fts["title/indptr"][token] : fts["title/indptr"][token + 1]]
    seen = artifact.item_rows(history(len(artifact.item_ids)))
    model = artifact.model
    assert isinstance(model, ALS)
    vector = model.user_factors[7]

    def eligible() -> Any:
        mask = np.take(wanted, col["category"]) & ~np.take(brand_out, col["brand"]) & (col["clearance"] < 0)
        mask &= (col["year"] >= 1995) & (col["price"] <= 150.0) & (col["in_stock"] == 1)
        mask[owners[col["tags"] == codes["tags"]["refurbished"]]] = False
        title = np.zeros_like(mask)
        title[posting] = True
        mask &= title
        mask[seen] = False
        return np.flatnonzero(mask)

    def run() -> Any:
        rows = eligible()
        return rows[bound_top((model.item_factors @ vector)[rows], K)]

    return run, len(eligible())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k items and 50 runs: a smoke test")
    parser.add_argument("--profile", action="store_true", help="cProfile the scenario request and print the top")
    args = parser.parse_args()
    n_items = 10_000 if args.quick else 100_000
    repeats = 50 if args.quick else int(os.environ.get("BENCH_REPEATS", "300"))
    rng = np.random.default_rng(0)
    artifact = shop(n_items, rng)
    events = Events(history(n_items))
    model = artifact.model
    assert isinstance(model, ALS)
    vector = model.user_factors[7]
    requester = Requester(user_id=USER, params={"page": "home"})

    def facts() -> RequestFacts:
        return RequestFacts("bench", requester, events, Catalog(), DATA_UNTIL)

    def resolve(source: Source, request_facts: RequestFacts | None = None) -> Case:
        return resolve_scenario("profile_to_items", "home", source, request_facts or facts()).case

    def case_run(case: Case, request_facts: RequestFacts | None = None) -> np.ndarray:
        request_facts = request_facts or facts()
        scores, _ = score_candidates(artifact, USER, request_facts.scored_events(), None)
        excluded = np.zeros(n_items, dtype=bool)
        return run_case(case, artifact, scores, excluded, request_facts, DEPTH).rows

    def request(source: Source) -> np.ndarray:
        request_facts = facts()
        return case_run(resolve(source, request_facts), request_facts)

    floor, n_eligible = bare_masks(artifact)
    paths: list[tuple[str, Callable[[], Any]]] = [
        ("bound: item_factors @ user + argpartition top 10", lambda: bound_top(model.item_factors @ vector, K)),
        ("bound + 10 masks (hand-written numpy)", floor),
    ]
    for label, doc in cases().items():
        source = Source(doc)
        case = resolve(source)
        assert len(case_run(case)) >= K, "the filters leave too few items"
        if not label:
            paths.append(("resolve: 5-deep scenario flow", functools.partial(resolve, source)))
            paths.append(("case run: scoring + 10 filters + diversity", functools.partial(case_run, case)))
        paths.append((f"scenario request{label}", functools.partial(request, source)))
    rows = []
    with blas_limit(1):
        if args.profile:
            profiled, profile = dict(paths)["scenario request"], cProfile.Profile()
            profile.runcall(lambda: [profiled() for _ in range(200)])
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        samples: dict[str, list[float]] = {name: [] for name, _ in paths}
        for _ in range(ROUNDS):  # interleaved, so that a busy host slows every path alike
            for name, fn in paths:
                samples[name] += timed(fn, repeats // ROUNDS)
        for name, fn in paths:
            got = samples[name]
            rows.append((name, statistics.median(got), statistics.quantiles(got, n=20)[18], peak_kib(fn)))
    bound = rows[0][1]
    print(f"Scenario request over {n_items:,} items (synthetic ALS, {USERS:,} users, 64 float32 factors),")
    print(f"{n_eligible:,} items pass the 10 filters and exclusions; 1 BLAS thread, top {K};")
    print(f"{repeats} runs in {ROUNDS} interleaved rounds; {os.cpu_count()} cores")
    print("| path | median µs | p95 µs | peak KiB | ratio to bound |\n| --- | ---: | ---: | ---: | ---: |")
    for name, median, p95, peak in rows:
        print(f"| {name} | {median:,.0f} | {p95:,.0f} | {peak:,.0f} | {median / bound:.2f} |")


if __name__ == "__main__":
    main()
