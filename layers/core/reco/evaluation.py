"""Offline evaluation: the per-user time split and ranking metrics over the whole catalog.

The protocol (the one behind the figures quoted in issues): events with a rating/weight >= a
threshold are positives; for each user, the last ``ceil(test_fraction x n)`` positives by
timestamp (at least 1, at most n - 1) form the test set, so users with fewer than 2 positives stay
train-only; the model is fitted on the remaining positives; each test user's train items are
excluded and every other catalog item is ranked. Recall@K = hits / |test items of the user|,
NDCG@K uses binary gains, coverage@K is the share of the catalog recommended to at least one user.

``python -m reco.evaluation ../shared/data/ml-100k`` prints the table for every recipe.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reco.models.base import Recommender
from reco.models.interactions import I64, Interactions
from reco.models.recipes import RECIPES, fit_recipe, resolve_params
from reco.models.topk import top_k_rows

if TYPE_CHECKING:  # the train function scores holdouts with this module and reads no MovieLens files
    from reco.datasets.movielens import Ratings

Split = tuple[Interactions, dict[int, I64]]


def positives(interactions: Interactions, threshold: float) -> Interactions:
    """The events whose weight (rating) is at least ``threshold``."""
    return interactions.subset(interactions.weights >= threshold)


def split_by_time(interactions: Interactions, test_fraction: float = 0.2) -> Split:
    """Train events and, per test user row, the sorted unique item rows of their last events.

    Events are ordered by (user, timestamp, item), so equal timestamps split deterministically.
    Test items the user also has in train are dropped (train items are never ranked), and so are
    users left without test items.
    """
    users, items = interactions.users.astype(np.int64), interactions.items.astype(np.int64)
    order = np.lexsort((items, interactions.timestamps, users))
    counts = np.bincount(users, minlength=interactions.n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    wanted = np.ceil(test_fraction * counts - 1e-9).astype(np.int64)
    n_test = np.where(counts >= 2, np.clip(wanted, 1, np.maximum(counts - 1, 1)), 0)
    sorted_users = users[order]
    rank = np.arange(len(order)) - starts[sorted_users]
    is_test = np.zeros(len(order), dtype=bool)
    is_test[order] = rank >= counts[sorted_users] - n_test[sorted_users]
    train = interactions.subset(~is_test)
    n = max(interactions.n_items, 1)
    test_keys = np.unique(users[is_test] * n + items[is_test])
    test_keys = test_keys[~np.isin(test_keys, train.users.astype(np.int64) * n + train.items)]
    test_users, test_items = test_keys // n, test_keys % n
    bounds = np.flatnonzero(np.diff(test_users)) + 1
    groups = np.split(test_items, bounds)
    heads = test_users[np.concatenate([[0], bounds])] if len(test_keys) else np.empty(0, np.int64)
    return train, {int(u): g.astype(np.int64) for u, g in zip(heads, groups, strict=False)}


def sample_test(test: Mapping[int, I64], max_rows: int | None, seed: int = 0) -> dict[int, I64]:
    """At most ``max_rows`` of the test rows, drawn without replacement by a seeded generator (all of them
    when there are fewer): scoring cost stays bounded on large tenants, at a sampling error of about
    ±0.005 Recall for 5,000 rows."""
    rows = np.array(sorted(test), dtype=np.int64)
    if max_rows is None or len(rows) <= max_rows:
        return dict(test)
    picked = np.sort(np.random.default_rng(seed).choice(rows, size=max_rows, replace=False))
    return {int(row): test[int(row)] for row in picked}


def evaluate(
    model: Recommender,
    train: Interactions,
    test: Mapping[int, I64],
    ks: Sequence[int] = (10, 20),
    batch_size: int = 512,
) -> dict[str, float]:
    """Recall@K, NDCG@K, MRR@K and coverage@K for every K, averaged over the test users.

    MRR@K is the reciprocal rank of a user's first hit within the top K (0 without one): the next-item
    metric of session protocols, where what matters is how high the first right answer sits.
    """
    users = np.array(sorted(test), dtype=np.int64)
    n_items, k_max = train.n_items, max(ks)
    seen = train.csr()
    discounts = 1.0 / np.log2(np.arange(2, k_max + 2))
    ideal = np.cumsum(discounts)
    recall = dict.fromkeys(ks, 0.0)
    ndcg = dict.fromkeys(ks, 0.0)
    mrr = dict.fromkeys(ks, 0.0)
    covered = {k: np.zeros(n_items, dtype=bool) for k in ks}
    for b0 in range(0, len(users), batch_size):
        rows = users[b0 : b0 + batch_size]
        scores = np.array(model.score_users(rows), dtype=np.float32)
        history = seen.take_rows(rows)
        scores[history.row_ids(), history.indices] = -np.inf
        top = top_k_rows(scores, k_max)
        valid = np.take_along_axis(scores, top, axis=1) > -np.inf
        sizes = np.array([len(test[int(u)]) for u in rows])
        truth = np.zeros(scores.shape, dtype=bool)
        truth[np.repeat(np.arange(len(rows)), sizes), np.concatenate([test[int(u)] for u in rows])] = True
        hits = np.take_along_axis(truth, top, axis=1) & valid
        # Rank (1-based) of each row's first hit; rows without a hit get a rank past every K.
        any_hit = hits.any(axis=1)
        first_hit = np.full(len(rows), k_max + 1, dtype=np.int64)
        first_hit[any_hit] = hits[any_hit].argmax(axis=1) + 1
        for k in ks:
            recall[k] += float((hits[:, :k].sum(axis=1) / sizes).sum())
            dcg = (hits[:, :k] * discounts[: hits[:, :k].shape[1]]).sum(axis=1)
            ndcg[k] += float((dcg / ideal[np.minimum(sizes, k) - 1]).sum())
            mrr[k] += float(np.where(first_hit <= k, 1.0 / first_hit, 0.0).sum())
            covered[k][top[:, :k][valid[:, :k]]] = True
    result: dict[str, float] = {"n_users": float(len(users))}
    for k in ks:
        result[f"recall@{k}"] = recall[k] / max(len(users), 1)
        result[f"ndcg@{k}"] = ndcg[k] / max(len(users), 1)
        result[f"mrr@{k}"] = mrr[k] / max(len(users), 1)
        result[f"coverage@{k}"] = float(covered[k].mean()) if n_items else 0.0
    return result


def ratings_split(ratings: Ratings, threshold: float = 4.0, test_fraction: float = 0.2, binary: bool = True) -> Split:
    """The protocol's split of a ratings data set over its whole catalog (rated or listed items)."""
    catalog = sorted(set(ratings.items) | set(ratings.item_ids))
    keep = ratings.ratings >= threshold
    interactions = Interactions.from_events(
        np.asarray(ratings.user_ids)[keep],
        np.asarray(ratings.item_ids)[keep],
        np.ones(int(keep.sum()), dtype=np.float32) if binary else ratings.ratings[keep],
        ratings.timestamps[keep],
        catalog_item_ids=catalog,
    )
    return split_by_time(interactions, test_fraction)


def tuned_params(
    recipe: str, train: Interactions, budget_seconds: float, metric: str = "recall@20", seed: int = 0
) -> tuple[str, dict[str, Any], float]:
    """What automatic tuning picks on ``train`` alone (its own newest events per row held out): the recipe
    (``recipe``, or the best one for ``"auto"``), its params, and the search's seconds. The test set of a
    protocol is never seen by the search."""
    from reco.training.tuning import tune  # tuning is built on this module

    result = tune(recipe, None, train, metric, budget_seconds, seed)
    return result.best.recipe, dict(result.best.params), result.seconds


def fitted_variants(
    recipes: Mapping[str, Mapping[str, Any] | None] | Sequence[str], train: Interactions, tune_budget: float | None
) -> Iterator[tuple[dict[str, Any], Recommender]]:
    """Each table row's model fitted on ``train``, with the row's label, recipe, params, fit and tuning seconds.

    The rows: each recipe with its params, then — with a tuning budget (seconds per search) — each recipe
    that has a search space tuned, and ``auto``, their params chosen by :func:`tuned_params` on ``train``.
    """
    wanted = list(recipes.items()) if isinstance(recipes, Mapping) else [(name, None) for name in recipes]
    rows: list[tuple[str, str, Mapping[str, Any] | None, bool]] = [(name, name, p, False) for name, p in wanted]
    if tune_budget is not None:
        rows += [(f"{name} tuned", name, None, True) for name, _ in wanted if RECIPES[name].SEARCH_SPACE]
        rows.append(("auto", "auto", None, True))
    for label, name, params, tuned in rows:
        tune_seconds = 0.0
        if tuned:
            name, resolved, tune_seconds = tuned_params(name, train, float(tune_budget or 0))
        else:
            resolved = resolve_params(name, params)
        started = time.perf_counter()
        model = fit_recipe(name, resolved, train)
        row = {
            "label": label if label != "auto" else f"auto: {name}",
            "recipe": name,
            "params": resolved,
            "fit_seconds": time.perf_counter() - started,
            "tune_seconds": tune_seconds,
        }
        yield row, model


def quality_table(
    ratings: Ratings,
    recipes: Mapping[str, Mapping[str, Any] | None] | Sequence[str],
    ks: Sequence[int] = (10, 20),
    threshold: float = 4.0,
    test_fraction: float = 0.2,
    tune_budget: float | None = None,
) -> list[dict[str, Any]]:
    """Fit and evaluate each recipe on the same split: one row of params, timings and metrics each.

    With ``tune_budget`` (seconds per search), rows of each recipe tuned and of ``auto`` follow, their params
    chosen by :func:`tuned_params` on the train part only.
    """
    train, test = ratings_split(ratings, threshold, test_fraction)
    return split_quality_table(train, test, recipes, ks, tune_budget)


def split_quality_table(
    train: Interactions,
    test: Mapping[int, I64],
    recipes: Mapping[str, Mapping[str, Any] | None] | Sequence[str],
    ks: Sequence[int] = (10, 20),
    tune_budget: float | None = None,
) -> list[dict[str, Any]]:
    """:func:`quality_table` on a split already made (a tenant's own events, say)."""
    rows: list[dict[str, Any]] = []
    for row, model in fitted_variants(recipes, train, tune_budget):
        started = time.perf_counter()
        metrics = evaluate(model, train, test, ks)
        rows.append({**row, "eval_seconds": time.perf_counter() - started, **metrics})
    return rows


def format_table(rows: Sequence[Mapping[str, Any]], ks: Sequence[int] = (10, 20)) -> str:
    """The rows of :func:`quality_table` as a fixed-width text table."""
    metrics = [f"{m}@{k}" for k in ks for m in ("recall", "ndcg", "mrr", "coverage")]
    lines = [f"{'recipe':<24}" + "".join(f"{m:>12}" for m in metrics) + f"{'fit s':>8}{'tune s':>8}  params"]
    for row in rows:
        cells = "".join(f"{row[m]:>12.4f}" for m in metrics)
        params = ", ".join(f"{k}={v}" for k, v in row["params"].items())
        label = row.get("label", row["recipe"])
        lines.append(f"{label:<24}{cells}{row['fit_seconds']:>8.2f}{row.get('tune_seconds', 0.0):>8.1f}  {params}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    from reco.datasets.movielens import read_ml1m, read_ml100k

    parser = argparse.ArgumentParser(description="Recall/NDCG/coverage of the recipes on MovieLens.")
    parser.add_argument("data", type=Path, help="an ml-100k or ml-1m directory")
    parser.add_argument("--recipes", nargs="*", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--ks", nargs="*", type=int, default=[10, 20])
    parser.add_argument("--tune", type=float, metavar="SECONDS", help="add tuned rows and auto: the search budget")
    args = parser.parse_args(argv)
    reader = read_ml100k if (args.data / "u.data").exists() else read_ml1m
    rows = quality_table(reader(args.data), args.recipes, args.ks, tune_budget=args.tune)
    print(format_table(rows, args.ks))


if __name__ == "__main__":
    main()
