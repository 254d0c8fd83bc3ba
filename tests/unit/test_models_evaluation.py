from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pytest

from reco.evaluation import evaluate, format_table, positives, quality_table, split_by_time
from reco.models.base import Arrays, Recommender
from reco.models.interactions import F32, I64, Interactions


class FixedScores(Recommender):
    """Returns a fixed score matrix, so the metrics can be computed by hand."""

    recipe: ClassVar[str] = "fixed"
    DEFAULT_PARAMS: ClassVar[dict[str, Any]] = {}

    def __init__(self, scores: np.ndarray) -> None:
        super().__init__()
        self.scores = scores.astype(np.float32)
        self.n_users, self.n_items = scores.shape

    def _fit(self, interactions: Interactions) -> None:
        raise NotImplementedError

    def _score_users(self, user_rows: I64) -> F32:
        return self.scores[user_rows]

    def _score_history(self, items: I64, weights: F32) -> F32:
        raise NotImplementedError

    def _to_arrays(self) -> Arrays:
        return {}

    def _from_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        pass


def test_metrics_on_a_hand_computed_example() -> None:
    items = [f"i{i}" for i in range(6)]
    train = Interactions.from_events(["u0", "u1"], ["i0", "i1"], [1.0, 1.0], [0.0, 0.0], catalog_item_ids=items)
    test = {0: np.array([2, 3]), 1: np.array([4])}
    scores = np.array([[9, 8, 7, 1, 6, 5], [0, 9, 1, 2, 8, 3]], dtype=np.float32)
    # u0 ranks (train item i0 excluded): 1, 2, 4, 5, 3 -> hit at rank 2 only within the top 3.
    # u1 ranks (train item i1 excluded): 4, 5, 3, 2, 0 -> hit at rank 1.
    result = evaluate(FixedScores(scores), train, test, ks=(1, 3), batch_size=1)
    assert result["n_users"] == 2
    assert result["recall@1"] == pytest.approx((0 + 1) / 2)
    assert result["ndcg@1"] == pytest.approx((0 + 1) / 2)
    assert result["recall@3"] == pytest.approx((1 / 2 + 1) / 2)
    ndcg_u0 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert result["ndcg@3"] == pytest.approx((ndcg_u0 + 1) / 2)
    assert result["coverage@1"] == pytest.approx(2 / 6)  # i1, i4
    assert result["coverage@3"] == pytest.approx(5 / 6)  # i1, i2, i4, i5, i3
    assert evaluate(FixedScores(scores), train, test, ks=(1, 3)) == result


def events(counts: dict[str, int]) -> Interactions:
    users, items, times = [], [], []
    for user, n in counts.items():
        for t in range(n):
            users.append(user)
            items.append(f"i{t:02d}")
            times.append(float(100 - t if user == "reversed" else t))
    return Interactions.from_events(users, items, np.ones(len(users)), times)


def test_split_holds_out_the_last_fifth_of_each_users_events() -> None:
    data = events({"one": 1, "two": 2, "five": 5, "six": 6, "fifteen": 15, "reversed": 10})
    train, test = split_by_time(data, test_fraction=0.2)
    row = {str(u): i for i, u in enumerate(data.user_ids)}
    assert row["one"] not in test  # fewer than 2 positives: train only
    assert test[row["two"]].tolist() == [1]
    assert test[row["five"]].tolist() == [4]
    assert test[row["six"]].tolist() == [4, 5]  # ceil(1.2) = 2
    assert test[row["fifteen"]].tolist() == [12, 13, 14]  # ceil(3.0), despite 0.2 * 15 = 3.0000000000000004
    assert test[row["reversed"]].tolist() == [0, 1]  # the newest events have the lowest item numbers
    assert train.n_events == data.n_events - 1 - 1 - 2 - 3 - 2
    assert train.item_ids.tolist() == data.item_ids.tolist()
    train_pairs = set(zip(train.users.tolist(), train.items.tolist(), strict=True))
    assert all((u, i) not in train_pairs for u, rows in test.items() for i in rows.tolist())


def test_positives_filter_by_weight_and_repeat_test_items_in_train_are_dropped() -> None:
    data = Interactions.from_events(["u"] * 6, ["a", "b", "c", "a", "d", "e"], [5, 4, 3, 5, 4, 1], [1, 2, 3, 4, 5, 6])
    kept = positives(data, 4.0)
    assert kept.n_events == 4
    train, test = split_by_time(kept, 0.5)  # a, b train; a (again), d test; a is already in train
    assert list(test) == [0] and test[0].tolist() == [3]
    assert train.n_events == 2


def test_quality_table_on_a_toy_data_set() -> None:
    from reco.datasets import Ratings

    rng = np.random.default_rng(0)
    n = 400
    ratings = Ratings(
        user_ids=[f"u{u}" for u in rng.integers(0, 20, n)],
        item_ids=[f"m{i}" for i in rng.integers(0, 30, n)],
        ratings=rng.integers(1, 6, n).astype(np.float32),
        timestamps=rng.random(n) * 1e6,
        items={"m99": {"title": "never rated"}},
    )
    rows = quality_table(ratings, {"popularity": None, "item_knn": {"neighbors": 5}}, ks=(5,))
    assert [r["recipe"] for r in rows] == ["popularity", "item_knn"]
    assert rows[1]["params"]["neighbors"] == 5
    assert 0.0 <= rows[0]["recall@5"] <= 1.0 and rows[0]["fit_seconds"] >= 0.0
    assert "popularity" in format_table(rows, ks=(5,))
