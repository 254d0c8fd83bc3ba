"""Recommender.contributions: each history item's share of each row's score, checked against brute force."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from reco.models.als import ALS
from reco.models.base import Recommender
from reco.models.ease import EASE
from reco.models.interactions import Interactions
from reco.models.knn import ItemKNN
from reco.models.recipes import fit_recipe

RNG = np.random.default_rng(11)
N_EVENTS = 700
USERS = [f"u{n}" for n in RNG.integers(0, 40, N_EVENTS)]
ITEMS = [f"i{n}" for n in RNG.integers(0, 35, N_EVENTS)]
DATA = Interactions.from_events(
    USERS, ITEMS, RNG.random(N_EVENTS).astype(np.float32) * 3 + 0.5, np.arange(float(N_EVENTS)), catalog_item_ids=["z0"]
)
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "als": ("als", {"factors": 6, "iterations": 4, "regularization": 2.0, "alpha": 3.0}),
    "ease_binary": ("ease", {"l2": 5.0, "binary": True}),
    "ease_weighted": ("ease", {"l2": 5.0, "binary": False}),
    "knn_binary": ("item_knn", {"neighbors": 6, "binary": True}),
    "knn_weighted": ("item_knn", {"neighbors": 6, "binary": False, "shrink": 2.0}),
}
MODELS: dict[str, Recommender] = {name: fit_recipe(recipe, params, DATA) for name, (recipe, params) in CONFIGS.items()}


def random_history(seed: int, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """Some catalog rows (with repeats) mixed with unknown ones (-1, n_items), and positive weights."""
    rng = np.random.default_rng(seed)
    known = rng.integers(0, n_items, 7)
    items = np.concatenate([known, known[:3], [-1, n_items, -1]])
    rng.shuffle(items)
    return items, (rng.random(len(items)) * 2 + 0.25).astype(np.float32)


def random_rows(seed: int, n_items: int) -> np.ndarray:
    rows = np.random.default_rng(seed + 1000).integers(0, n_items, 12)
    return np.concatenate([rows, rows[:2]])  # repeated rows get identical columns


def brute_clean(model: Recommender, user_row: int | None, history: Any) -> tuple[list[int], list[float]]:
    """combined_history then clean_history, in plain Python."""
    pairs: list[tuple[int, float]] = []
    if user_row is not None:
        assert model.user_items is not None
        past_items, past_weights = model.user_items.row(user_row)
        pairs += [(int(i), float(w)) for i, w in zip(past_items, past_weights, strict=True)]
    if history is not None:
        pairs += [(int(i), float(w)) for i, w in zip(*history, strict=True)]
    summed: dict[int, float] = {}
    for item, weight in pairs:
        if 0 <= item < model.n_items:
            summed[item] = summed.get(item, 0.0) + weight
    items = sorted(summed)
    return items, [summed[i] for i in items]


def brute_matrix(model: Recommender, items: list[int], weights: list[float], rows: list[int]) -> np.ndarray:
    """The contribution formula of each recipe, one cell at a time."""
    out = np.zeros((len(items), len(rows)))
    if isinstance(model, EASE):
        for i, (item, weight) in enumerate(zip(items, weights, strict=True)):
            for j, row in enumerate(rows):
                out[i, j] = (1.0 if model.params["binary"] else weight) * float(model.weights[item, row])
    elif isinstance(model, ItemKNN):
        for j, row in enumerate(rows):  # a candidate sums over its own kept neighbours (textbook item-kNN)
            kept = {int(n): float(s) for n, s in zip(model.neighbors[row], model.similarities[row], strict=True)}
            for i, (item, weight) in enumerate(zip(items, weights, strict=True)):
                out[i, j] = (1.0 if model.params["binary"] else weight) * kept.get(item, 0.0)
    elif isinstance(model, ALS):
        y = model.item_factors.astype(np.float64)
        a = y.T @ y + float(model.params["regularization"]) * np.eye(y.shape[1])
        confidence = [1.0 + float(model.params["alpha"]) * w for w in weights]
        for item, c in zip(items, confidence, strict=True):
            a += (c - 1.0) * np.outer(y[item], y[item])
        inverse = np.linalg.inv(a)
        for i, (item, c) in enumerate(zip(items, confidence, strict=True)):
            for j, row in enumerate(rows):
                out[i, j] = c * float(y[item] @ inverse @ y[row])
    else:
        raise AssertionError(type(model))
    return out


def expected_scores(model: Recommender, user_row: int | None, history: Any, rows: np.ndarray) -> np.ndarray:
    """The score each column must sum to (see the recipe docstrings)."""
    items, weights = model.clean_history(*model.combined_history(user_row, history))
    if isinstance(model, ALS):
        if len(items) == 0:
            return np.zeros(len(rows), dtype=np.float32)
        return model.item_factors[rows] @ model.fold_in(items, weights).astype(np.float32)
    if isinstance(model, ItemKNN):
        return model.user_scores(None, (items, weights))[rows]
    return model.candidate_scores(user_row, history, rows)


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("user_row", [None, 5])
@pytest.mark.parametrize("seed", range(4))
def test_contributions_sum_to_the_scores_and_match_brute_force(name: str, user_row: int | None, seed: int) -> None:
    model = MODELS[name]
    history = random_history(seed, model.n_items)
    rows = random_rows(seed, model.n_items)
    answer = model.contributions(user_row, history, rows)
    assert answer is not None
    items, matrix = answer
    want_items, want_weights = brute_clean(model, user_row, history)
    assert items.dtype == np.int64 and matrix.dtype == np.float32
    assert items.tolist() == want_items  # unknown rows dropped, each item once
    assert matrix.shape == (len(want_items), len(rows))

    sums = matrix.sum(axis=0)
    np.testing.assert_allclose(sums, expected_scores(model, user_row, history, rows), rtol=1e-4, atol=1e-5)
    # A fresh history is given, so the served candidate scores are that sum for every recipe (ALS folds it in).
    np.testing.assert_allclose(sums, model.candidate_scores(user_row, history, rows), rtol=1e-4, atol=1e-5)

    brute = brute_matrix(model, want_items, want_weights, rows.tolist())
    np.testing.assert_allclose(matrix, brute, rtol=1e-4, atol=1e-6)
    top = matrix.argmax(axis=0)
    np.testing.assert_allclose(brute[top, np.arange(len(rows))], brute.max(axis=0), atol=1e-6)
    decisive = np.sort(brute, axis=0)[-1] - np.sort(brute, axis=0)[-2] > 1e-4
    assert decisive.any()
    np.testing.assert_array_equal(top[decisive], brute.argmax(axis=0)[decisive])
    np.testing.assert_array_equal(matrix[:, -2:], matrix[:, :2])  # repeated rows


def test_knn_a_history_item_counts_only_for_the_rows_that_keep_it() -> None:
    model = MODELS["knn_weighted"]
    assert isinstance(model, ItemKNN)
    item = 3
    keepers = np.flatnonzero((model.neighbors == item).any(axis=1))  # rows with item among their neighbours
    others = np.setdiff1d(np.arange(model.n_items), keepers)
    assert len(keepers) and len(others)
    answer = model.contributions(None, ([item], [2.0]), np.concatenate([keepers, others]))
    assert answer is not None
    items, matrix = answer
    assert items.tolist() == [item]
    expected = 2.0 * model.similarities[model.neighbors == item]  # row-major: one value per keeper, in order
    np.testing.assert_allclose(matrix[0, : len(keepers)], expected, rtol=1e-6)
    assert not matrix[0, len(keepers) :].any()
    np.testing.assert_allclose(model.user_scores(None, ([item], [2.0]))[keepers], expected, rtol=1e-6)


def test_knn_scores_each_candidate_over_its_own_top_neighbours() -> None:
    """Textbook item-kNN: score(j) = Σ w_i·sim(i, j) over i in the history and in j's top K, whatever i's own list."""
    for name in ("knn_binary", "knn_weighted"):
        model = MODELS[name]
        assert isinstance(model, ItemKNN)
        items, weights = model.clean_history(*random_history(3, model.n_items))
        w = np.ones_like(weights) if model.params["binary"] else weights
        dense = np.zeros((model.n_items, model.n_items))  # dense[i, j] = sim(i, j) when i is kept by j
        dense[model.neighbors, np.arange(model.n_items)[:, None]] = model.similarities
        want = w @ dense[items]
        np.testing.assert_allclose(model.user_scores(None, (items, weights)), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            model.candidate_scores(None, (items, weights), np.arange(model.n_items)), want, rtol=1e-5, atol=1e-6
        )
        assert model.user_items is not None
        x = model.user_items.dense_rows(0, model.n_users)
        x = (x > 0).astype(np.float64) if model.params["binary"] else x.astype(np.float64)
        np.testing.assert_allclose(model.score_users(np.arange(model.n_users)), x @ dense, rtol=1e-5, atol=1e-5)


def test_knn_similar_items_are_the_items_own_neighbours() -> None:
    model = MODELS["knn_binary"]
    assert isinstance(model, ItemKNN)
    scores = model.similar_scores(4)
    np.testing.assert_array_equal(scores[model.neighbors[4]], model.similarities[4])
    assert not np.delete(scores, model.neighbors[4]).any()


@pytest.mark.parametrize("name", ["ease_binary", "ease_weighted", "knn_binary", "knn_weighted"])
@pytest.mark.parametrize("user_row", [0, 5, 17])
def test_a_known_user_without_history_sums_to_the_served_scores(name: str, user_row: int) -> None:
    model = MODELS[name]
    rows = random_rows(user_row, model.n_items)
    answer = model.contributions(user_row, None, rows)
    assert answer is not None
    items, matrix = answer
    assert model.user_items is not None
    np.testing.assert_array_equal(items, model.user_items.row(user_row)[0])
    assert len(items) > 0
    # score_users (_score_users), not the history path.
    np.testing.assert_allclose(matrix.sum(axis=0), model.user_scores(user_row)[rows], rtol=1e-4, atol=1e-5)


def test_als_known_user_without_history_is_the_fold_in_of_their_training_history() -> None:
    model = MODELS["als"]
    assert isinstance(model, ALS) and model.user_items is not None
    rows = random_rows(1, model.n_items)
    answer = model.contributions(5, None, rows)
    assert answer is not None
    items, matrix = answer
    past_items, past_weights = model.user_items.row(5)
    np.testing.assert_array_equal(items, past_items)
    fold_in = model.item_factors[rows] @ model.fold_in(items, past_weights).astype(np.float32)
    np.testing.assert_allclose(matrix.sum(axis=0), fold_in, rtol=1e-4, atol=1e-5)
    # The served scores use the trained user factors: related, not equal.
    served = model.user_scores(5)[rows]
    assert np.corrcoef(served, matrix.sum(axis=0))[0, 1] > 0.5


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("history", [None, ([], []), ([-1, 10_000], [1.0, 2.0])])
def test_an_empty_history_has_no_contributors(name: str, history: Any) -> None:
    model = MODELS[name]
    answer = model.contributions(None, history, [0, 4, 4])
    assert answer is not None
    items, matrix = answer
    assert items.shape == (0,) and items.dtype == np.int64
    assert matrix.shape == (0, 3) and matrix.dtype == np.float32


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_no_rows_gives_an_empty_matrix(name: str) -> None:
    answer = MODELS[name].contributions(None, random_history(0, MODELS[name].n_items), [])
    assert answer is not None
    items, matrix = answer
    assert matrix.shape == (len(items), 0) and len(items) > 0


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("rows", [[0, -1], [0, 10_000]])
def test_rows_outside_the_catalog_are_refused(name: str, rows: list[int]) -> None:
    with pytest.raises(IndexError):
        MODELS[name].contributions(None, ([0], [1.0]), rows)


@pytest.mark.parametrize("recipe", ["popularity", "trending"])
@pytest.mark.parametrize("user_row", [None, 5])
def test_global_recipes_have_no_contributions(recipe: str, user_row: int | None) -> None:
    model = fit_recipe(recipe, None, DATA)
    history = random_history(0, model.n_items)
    # Their scores ignore the history: not a sum over its items.
    np.testing.assert_array_equal(model.user_scores(None, history), model.user_scores(None, None))
    assert model.contributions(user_row, history, [0, 1]) is None
