"""The session recipes on a synthetic click stream: fit time, artifact size and single-request latency.

A shop of ``ITEMS`` items and ``SESSIONS`` anonymous sessions of 2-12 clicks; each click follows the
previous one on a random walk over a sparse item graph (so rules and neighbours exist), items drawn
with a power-law popularity. A request scores the whole catalog for a live session of 3 or 20 clicks
and takes the top 20 (``Recommender.recommend``). The plain-numpy lower bound does only what no
implementation can skip: a ``bincount`` of as many votes as the recipe gathered into an n_items vector,
then ``argpartition`` + sort of the top 20.

``python -m bench.sessions`` (part of ``make bench``); BENCH_REPEATS sets the samples per row.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import time
from typing import Any

import numpy as np

from bench.timing import timed
from reco.models.artifact import ModelArtifact
from reco.models.interactions import F32, I64, Interactions
from reco.models.recipes import fit_recipe
from reco.models.sequential_rules import SequentialRules
from reco.models.session_knn import SessionKNN

ITEMS = int(os.environ.get("BENCH_SESSION_ITEMS", "50000"))
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "100000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "200"))
N = 20


def click_stream(rng: np.random.Generator) -> Interactions:
    """Sessions walking a sparse item graph: each item leads to one of its 8 fixed successors."""
    successors = rng.zipf(1.3, (ITEMS, 8)) % ITEMS
    lengths = rng.integers(2, 13, SESSIONS)
    total = int(lengths.sum())
    rows = np.repeat(np.arange(SESSIONS), lengths)
    step = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    items = np.empty(total, dtype=np.int64)
    first = step == 0
    items[first] = rng.zipf(1.2, int(first.sum())) % ITEMS
    choice = rng.integers(0, 8, total)
    for position in range(1, int(lengths.max())):  # a loop over click positions (12), not over data
        here = np.flatnonzero(step == position)
        items[here] = successors[items[here - 1], choice[here]]
    starts = rng.uniform(0, 30 * 86_400, SESSIONS)
    times = starts[rows] + 30.0 * step
    ids = np.char.add("i", np.arange(ITEMS).astype(str))
    return Interactions.from_events(
        np.char.add("s", rows.astype(str)), ids[items], np.ones(total, np.float32), times, catalog_item_ids=ids
    )


def live_sessions(data: Interactions, clicks: int, rng: np.random.Generator, n: int = 50) -> list[I64]:
    """Paths of ``clicks`` items taken from training sessions' items (so they are known)."""
    return [rng.choice(data.items, clicks).astype(np.int64) for _ in range(n)]


def votes_gathered(model: Any, history: I64) -> int:
    """How many (item, weight) votes the recipe sums for ``history``: the bound's bincount size."""
    if isinstance(model, SequentialRules):
        last = int(history[-1])
        return int(model.rules_indptr[last + 1] - model.rules_indptr[last])
    chosen = int(model.params["neighbors"])
    lengths = np.diff(model.sequences.indptr)
    return int(chosen * lengths.mean())


def bound(n_items: int, votes: int, rng: np.random.Generator) -> Any:
    targets = rng.integers(0, n_items, votes)
    weights = rng.random(votes).astype(np.float32)

    def run() -> I64:
        scores: F32 = np.bincount(targets, weights=weights, minlength=n_items).astype(np.float32)
        part = np.argpartition(-scores, N - 1)[:N]
        return part[np.argsort(-scores[part])]

    return run


def p50_p95(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=20)[18]


def main() -> None:
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    data = click_stream(rng)
    print(
        f"Session recipes on a synthetic click stream: {ITEMS:,} items, {SESSIONS:,} sessions, {data.n_events:,} clicks"
    )
    print("| recipe | fit s | model arrays MB | clicks in session | p50 µs | p95 µs | bound p50 µs | ours / bound |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows: list[dict[str, Any]] = []
    for recipe in ("sequential_rules", "session_knn"):
        fit_started = time.perf_counter()
        model = fit_recipe(recipe, None, data)
        fit_s = time.perf_counter() - fit_started
        buffer = io.BytesIO()
        np.savez(
            buffer,
            **{k: v for k, v in ModelArtifact.build(recipe, model.params, model, data).model.to_arrays().items()},
        )
        size_mb = len(buffer.getvalue()) / 1e6
        assert isinstance(model, SessionKNN | SequentialRules)
        for clicks in (3, 20):
            histories = live_sessions(data, clicks, rng)
            ones = np.ones(clicks, np.float32)
            cycle = iter(range(10**9))

            def request(
                model: Any = model, histories: list[I64] = histories, ones: F32 = ones, cycle: Any = cycle
            ) -> Any:
                return model.recommend(None, N, history=(histories[next(cycle) % len(histories)], ones))

            ours = p50_p95(timed(request, REPEATS))
            votes = int(np.median([votes_gathered(model, h) for h in histories]))
            lower = p50_p95(timed(bound(data.n_items, max(votes, 1), rng), REPEATS))
            row = {
                "recipe": recipe,
                "fit_seconds": round(fit_s, 2),
                "artifact_mb": round(size_mb, 1),
                "clicks": clicks,
                "p50_us": round(ours[0]),
                "p95_us": round(ours[1]),
                "bound_p50_us": round(lower[0]),
                "ratio_p50": round(ours[0] / lower[0], 1),
            }
            rows.append(row)
            print(
                f"| {recipe} | {fit_s:.1f} | {size_mb:.1f} | {clicks} | {ours[0]:,.0f} | {ours[1]:,.0f} "
                f"| {lower[0]:,.0f} | {ours[0] / lower[0]:.1f}x |"
            )
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    print(json.dumps({"session_recipes": rows}))


if __name__ == "__main__":
    main()
