"""Offline evaluation, session protocol: next-event prediction on the newest sessions.

Beside the user protocol of :mod:`reco.evaluation` (each user's newest events held out, recommended
as a set), this one measures what a session recipe is made for — the next click of a visitor:

* split: rows are sessions (or users read as one long session each); the last ``test_fraction`` of
  rows by their newest event are the test sessions, and the model is fitted on the other rows'
  events only, so a test session is never seen at fit time (it reaches the model as a fresh history,
  as a visitor does at request time);
* each test session is read as a sequence (:class:`reco.models.sequences.Sequences`: each item once,
  at its latest event); for every position p >= 1 its items [0:p] (oldest first) are the history and
  item p is the target;
* the history's items are excluded from the ranking: sequences hold no repeats, so the target is
  never a history item, and a recipe that scores what was just seen highly (ALS and EASE rebuild the
  history) would otherwise fill its top K with items that cannot be the answer — the product
  excludes seen items the same way. The rest of the catalog is ranked;
* HR@K = 1 if the target is in the top K, MRR@K = 1 / its rank there (0 outside), averaged over all
  predictions. Ranks break ties by item row, as ``top_k`` does when the API answers. A target with no
  training event counts as a prediction and a miss: no recipe can know it, and dropping it would
  flatter the data sets where new items keep arriving.

``python -m reco.session_evaluation ../shared/data/ml-1m --max-predictions 20000`` prints the table.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reco.datasets.movielens import Ratings, read_ml1m, read_ml100k
from reco.evaluation import fitted_variants
from reco.models.base import Recommender
from reco.models.interactions import DENSE_CHUNK_CELLS, F32, I64, Bools, Interactions
from reco.models.recipes import RECIPES
from reco.models.sequences import Sequences


@dataclass(frozen=True)
class SessionSplit:
    """Training events, and the test sessions' sequences with their rows in time order (by newest event)."""

    train: Interactions
    test: Sequences
    test_rows: I64

    def predictions(self, rows: I64 | None = None) -> int:
        """How many next-event predictions ``rows`` (default: every test session) make: Σ (length - 1)."""
        chosen = self.test_rows if rows is None else rows
        return int(np.maximum(self.test.lengths()[chosen] - 1, 0).sum())


def sequences_from_ratings(ratings: Ratings, threshold: float = 4.0) -> Interactions:
    """MovieLens read as sessions: each user's ratings >= ``threshold``, in time order, form one sequence.

    Every event weighs 1; the catalog is every rated or listed item, as in the user protocol. MovieLens
    ratings come in bursts: 43 % of a user's consecutive ratings share their second, and
    :class:`Sequences` orders those by item row. That order is the same in training and test, so order-aware
    recipes learn part of it (sequential_rules' HR@20 on ML-100K: 0.216 as read, 0.194 with the ties
    shuffled; EASE, which reads sets, does not move): compare recipes on the same reading.
    """
    catalog = sorted(set(ratings.items) | set(ratings.item_ids))
    keep = ratings.ratings >= threshold
    return Interactions.from_events(
        np.asarray(ratings.user_ids)[keep],
        np.asarray(ratings.item_ids)[keep],
        np.ones(int(keep.sum()), dtype=np.float32),
        ratings.timestamps[keep],
        catalog_item_ids=catalog,
    )


def split_sessions(interactions: Interactions, test_fraction: float = 0.2) -> SessionSplit:
    """The newest ``ceil(test_fraction x rows)`` rows by last event (at most all but one) are test sessions.

    Rows with equal last events are ordered by row, so the split is deterministic.
    """
    rows = interactions.users.astype(np.int64)
    last_time = np.full(interactions.n_users, -np.inf)
    np.maximum.at(last_time, rows, interactions.timestamps)
    by_time = np.lexsort((np.arange(interactions.n_users), last_time))
    wanted = math.ceil(test_fraction * interactions.n_users - 1e-9) if test_fraction > 0 else 0
    n_test = min(wanted, max(interactions.n_users - 1, 0))
    test_rows = by_time[len(by_time) - n_test :].astype(np.int64)
    is_test_row = np.zeros(interactions.n_users, dtype=bool)
    is_test_row[test_rows] = True
    in_test = is_test_row[rows]
    test = Sequences.from_interactions(interactions.subset(in_test))
    return SessionSplit(interactions.subset(~in_test), test, test_rows)


def sample_sessions(split: SessionSplit, max_predictions: int | None, seed: int = 0) -> I64:
    """Test rows to evaluate, in time order: all of them, or whole sessions in a seeded random order until
    their predictions reach ``max_predictions`` (so it may be passed by less than one session)."""
    rows = split.test_rows[split.test.lengths()[split.test_rows] >= 2]
    if max_predictions is None:
        return rows
    order = np.random.default_rng(seed).permutation(len(rows))
    reached = np.cumsum(split.test.lengths()[rows[order]] - 1)
    taken = order[: int(np.searchsorted(reached, max_predictions)) + 1]
    return rows[np.sort(taken)]  # test_rows is in time order, and so are positions into it


def target_ranks(scores: F32, targets: I64) -> F32:
    """1-based rank of each row's target among the row's scores, ties broken by item row (as ``top_k``).

    Excluded items hold -inf; a target scored -inf or NaN gets rank inf (a miss).
    """
    picked = scores[np.arange(len(targets)), targets][:, None]
    above = (scores > picked).sum(axis=1)
    tied_before = ((scores == picked) & (np.arange(scores.shape[1]) < targets[:, None])).sum(axis=1)
    ranks: F32 = (1 + above + tied_before).astype(np.float32)
    ranks[~np.isfinite(picked[:, 0])] = np.inf
    return ranks


def _session_ranks(model: Recommender, items: I64, known: Bools) -> F32:
    """Ranks of items[p] after the history items[:p], for p = 1 .. len(items) - 1, in blocks of bounded size."""
    n_items = model.n_items
    block = max(1, DENSE_CHUNK_CELLS // max(n_items, 1))
    ranks: list[F32] = []
    for p0 in range(1, len(items), block):
        positions = np.arange(p0, min(p0 + block, len(items)))
        # One call per prediction: score_history is the only scoring path every recipe offers for a fresh,
        # ordered history; exclusion and ranking below run on the whole block at once.
        scores = np.stack([model.score_history(items[:p], np.ones(p, dtype=np.float32)) for p in positions])
        history_sizes = positions
        owner = np.repeat(np.arange(len(positions)), history_sizes)
        offsets = np.arange(int(history_sizes.sum())) - np.repeat(
            np.cumsum(history_sizes) - history_sizes, history_sizes
        )
        scores[owner, items[offsets]] = -np.inf
        block_ranks = target_ranks(scores, items[positions])
        block_ranks[~known[items[positions]]] = np.inf
        ranks.append(block_ranks)
    return np.concatenate(ranks) if ranks else np.zeros(0, dtype=np.float32)


def evaluate_sessions(
    model: Recommender, split: SessionSplit, rows: I64 | None = None, ks: Sequence[int] = (10, 20)
) -> dict[str, float]:
    """HR@K and MRR@K over every prediction of the test sessions ``rows`` (default: all), with counts."""
    chosen = sample_sessions(split, None) if rows is None else rows
    known = np.bincount(split.train.items, minlength=split.train.n_items) > 0
    ranks = [_session_ranks(model, split.test.row(int(r)).astype(np.int64), known) for r in chosen]
    all_ranks = np.concatenate(ranks) if ranks else np.zeros(0, dtype=np.float32)
    n = max(len(all_ranks), 1)
    result: dict[str, float] = {"n_sessions": float(len(chosen)), "n_predictions": float(len(all_ranks))}
    for k in ks:
        hit = all_ranks <= k
        result[f"hr@{k}"] = float(hit.sum()) / n
        result[f"mrr@{k}"] = float((1.0 / all_ranks[hit]).sum()) / n
    return result


def session_quality_table(
    interactions: Interactions,
    recipes: Mapping[str, Mapping[str, Any] | None] | Sequence[str],
    ks: Sequence[int] = (10, 20),
    test_fraction: float = 0.2,
    max_predictions: int | None = None,
    seed: int = 0,
    tune_budget: float | None = None,
) -> list[dict[str, Any]]:
    """Fit and evaluate each recipe on the same session split and sessions: params, timings and metrics.

    With ``tune_budget`` (seconds per search), rows of each recipe tuned and of ``auto`` follow, their params
    chosen by ``reco.evaluation.tuned_params`` on the training sessions only.
    """
    split = split_sessions(interactions, test_fraction)
    rows = sample_sessions(split, max_predictions, seed)
    table: list[dict[str, Any]] = []
    for row, model in fitted_variants(recipes, split.train, tune_budget):
        started = time.perf_counter()
        metrics = evaluate_sessions(model, split, rows, ks)
        eval_seconds = time.perf_counter() - started
        ms_per_prediction = 1000.0 * eval_seconds / max(metrics["n_predictions"], 1.0)
        table.append({**row, "eval_seconds": eval_seconds, "ms_per_prediction": ms_per_prediction, **metrics})
    return table


def format_session_table(rows: Sequence[Mapping[str, Any]], ks: Sequence[int] = (10, 20)) -> str:
    """The rows of :func:`session_quality_table` as a fixed-width text table."""
    metrics = [f"{m}@{k}" for k in ks for m in ("hr", "mrr")]
    header = f"{'recipe':<26}" + "".join(f"{m:>9}" for m in metrics)
    lines = [header + f"{'fit s':>9}{'tune s':>8}{'eval s':>9}{'ms/pred':>9}  params"]
    for row in rows:
        cells = "".join(f"{row[m]:>9.4f}" for m in metrics)
        timings = f"{row['fit_seconds']:>9.2f}{row.get('tune_seconds', 0.0):>8.1f}"
        timings += f"{row['eval_seconds']:>9.1f}{row['ms_per_prediction']:>9.3f}"
        params = ", ".join(f"{k}={v}" for k, v in row["params"].items())
        lines.append(f"{row.get('label', row['recipe']):<26}{cells}{timings}  {params}")
    return "\n".join(lines)


def describe_sessions(rows: Sequence[Mapping[str, Any]]) -> str:
    """The counts every row shares (same split and sessions), as one line."""
    if not rows:
        return "no recipes evaluated"
    return f"{int(rows[0]['n_sessions']):,} test sessions, {int(rows[0]['n_predictions']):,} predictions"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="HR/MRR of next-event prediction on MovieLens read as sequences.")
    parser.add_argument("data", type=Path, help="an ml-100k or ml-1m directory")
    parser.add_argument("--recipes", nargs="*", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--ks", nargs="*", type=int, default=[10, 20])
    parser.add_argument("--threshold", type=float, default=4.0, help="ratings kept as events (default 4)")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="newest share of users tested (0.2)")
    parser.add_argument("--max-predictions", type=int, help="evaluate a seeded sample of sessions (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed (default 0)")
    parser.add_argument("--tune", type=float, metavar="SECONDS", help="add tuned rows and auto: the search budget")
    args = parser.parse_args(argv)
    reader = read_ml100k if (args.data / "u.data").exists() else read_ml1m
    interactions = sequences_from_ratings(reader(args.data), args.threshold)
    rows = session_quality_table(
        interactions, args.recipes, args.ks, args.test_fraction, args.max_predictions, args.seed, args.tune
    )
    print(describe_sessions(rows))
    print(format_session_table(rows, args.ks))


if __name__ == "__main__":
    main()
