from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from reco.models import ease
from reco.models.base import Recommender
from reco.models.ease import EASE
from reco.models.interactions import Interactions
from reco.models.recipes import RECIPES, fit_recipe, resolve_params

DAY = 86_400.0
A_ITEMS = [f"a{i}" for i in range(5)]
B_ITEMS = [f"b{i}" for i in range(5)]
# Small-data params: the defaults are tuned for MovieLens-sized data.
PERSONAL: dict[str, dict[str, Any]] = {
    "item_knn": {"neighbors": 5},
    "als": {"factors": 4, "regularization": 1.0, "alpha": 10.0, "iterations": 20},
    "ease": {"l2": 1.0},
}


def two_clusters() -> Interactions:
    """Six users on items a0-a4 (user k skips a(k mod 5)), five on b0-b4 (user k skips bk).

    A events are 30 days old, B events recent; item ``c0`` is in the catalog with no events.
    Popularity: a1-a4 have 5 events, a0 and every b item 4.
    """
    users, items, times = [], [], []
    for k in range(6):
        for item in A_ITEMS:
            if item != A_ITEMS[k % 5]:
                users.append(f"ua{k}")
                items.append(item)
                times.append(1_000.0)
    for k in range(5):
        for item in B_ITEMS:
            if item != B_ITEMS[k]:
                users.append(f"ub{k}")
                items.append(item)
                times.append(1_000.0 + 30 * DAY)
    return Interactions.from_events(users, items, np.ones(len(users)), times, catalog_item_ids=["c0"])


def fitted(recipe: str, data: Interactions | None = None) -> Recommender:
    return fit_recipe(recipe, PERSONAL.get(recipe, {}), data or two_clusters())


def ids(data: Interactions, rows: np.ndarray) -> list[str]:
    return [str(data.item_ids[r]) for r in rows]


def test_popularity_orders_by_summed_weight() -> None:
    data = two_clusters()
    rows, scores = fitted("popularity", data).recommend(None, 5)
    assert ids(data, rows) == ["a1", "a2", "a3", "a4", "a0"]
    np.testing.assert_allclose(scores, [5, 5, 5, 5, 4])


def test_trending_prefers_recent_events() -> None:
    data = two_clusters()
    model = fitted("trending", data)
    rows, scores = model.recommend(None, 5)
    assert ids(data, rows) == B_ITEMS
    np.testing.assert_allclose(scores, 4.0)
    a1 = int(data.item_index(["a1"])[0])
    np.testing.assert_allclose(model.score_history([], [])[a1], 5 * 0.5 ** (30 / 7), rtol=1e-5)


def test_global_recipes_give_every_user_the_same_scores() -> None:
    for recipe in ("popularity", "trending"):
        model = fitted(recipe)
        scores = model.score_users(np.array([0, 3, 7]))
        assert scores.shape == (3, model.n_items) and scores.dtype == np.float32
        np.testing.assert_array_equal(scores[0], scores[2])


@pytest.mark.parametrize("recipe", ["item_knn", "als", "ease"])
def test_a_user_gets_their_missing_cluster_item_first(recipe: str) -> None:
    data = two_clusters()
    model = fitted(recipe, data)
    for k in range(6):
        user = int(data.user_index([f"ua{k}"])[0])
        assert model.user_items is not None
        seen = model.user_items.row(user)[0]
        rows, _ = model.recommend(user, 3, exclude=seen)
        assert ids(data, rows)[0] == A_ITEMS[k % 5]
        assert set(ids(data, rows)).isdisjoint(ids(data, seen))


@pytest.mark.parametrize("recipe", ["item_knn", "als", "ease"])
def test_score_users_ranks_own_cluster_above_the_other(recipe: str) -> None:
    data = two_clusters()
    model = fitted(recipe, data)
    scores = model.score_users(data.user_index(["ua1", "ub1"]))
    assert scores.shape == (2, data.n_items) and scores.dtype == np.float32
    a, b = data.item_index(A_ITEMS), data.item_index(B_ITEMS)
    assert scores[0, a].min() > scores[0, b].max()
    assert scores[1, b].min() > scores[1, a].max()


@pytest.mark.parametrize("recipe", ["item_knn", "als", "ease"])
def test_similar_items_stay_in_the_cluster(recipe: str) -> None:
    data = two_clusters()
    model = fitted(recipe, data)
    rows, scores = model.similar_items(int(data.item_index(["b2"])[0]), 4)
    assert sorted(ids(data, rows)) == ["b0", "b1", "b3", "b4"]
    assert np.all(np.diff(scores) <= 0)


@pytest.mark.parametrize("recipe", ["item_knn", "als", "ease"])
def test_fold_in_of_a_history_recommends_its_cluster(recipe: str) -> None:
    data = two_clusters()
    model = fitted(recipe, data)
    history = data.item_index(["b0", "b1", "unknown-item"])  # -1 is dropped
    rows, _ = model.recommend(None, 3, history=(history, np.ones(3)), exclude=history)
    assert set(ids(data, rows)) <= {"b2", "b3", "b4"}
    scores = model.score_history(history, np.ones(3, dtype=np.float32))
    assert scores.shape == (data.n_items,) and scores.dtype == np.float32


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_candidates_restrict_and_exclude_masks(recipe: str) -> None:
    data = two_clusters()
    model = fitted(recipe, data)
    candidates = data.item_index(["b3", "a0", "c0", "a0", "nope"])
    rows, scores = model.recommend(0, 10, candidates=candidates)
    assert sorted(ids(data, rows)) == ["a0", "b3", "c0"]
    assert scores.dtype == np.float32 and rows.dtype == np.int64
    rows, _ = model.recommend(0, 10, candidates=candidates, exclude=data.item_index(["a0"]))
    assert sorted(ids(data, rows)) == ["b3", "c0"]
    rows, _ = model.recommend(None, 20, exclude=data.item_index(A_ITEMS))
    assert set(ids(data, rows)).isdisjoint(A_ITEMS)
    assert len(rows) == data.n_items - 5


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_to_arrays_round_trip_scores(recipe: str) -> None:
    model = fitted(recipe)
    clone = RECIPES[recipe].from_arrays(model.to_arrays(), model.params)
    users = np.arange(model.n_users)
    np.testing.assert_array_equal(clone.score_users(users), model.score_users(users))
    np.testing.assert_array_equal(clone.score_history([1, 2], [1.0, 2.0]), model.score_history([1, 2], [1.0, 2.0]))
    assert clone.recommend(3, 4)[0].tolist() == model.recommend(3, 4)[0].tolist()


def test_a_known_user_with_a_fresh_history_combines_both() -> None:
    data = two_clusters()
    model = fitted("item_knn", data)
    user = int(data.user_index(["ua1"])[0])  # has a0, a2, a3, a4
    extra = data.item_index(["b0"])
    rows, _ = model.recommend(user, 11, history=(extra, [1.0]))
    top = ids(data, rows)
    assert top.index("a1") < top.index("b1")  # the stored A history still counts
    assert "b1" in top[:6]


def test_params_are_resolved_and_validated() -> None:
    assert resolve_params("als", {"factors": 8})["factors"] == 8
    assert resolve_params("als", {"regularization": 1})["regularization"] == 1.0
    assert resolve_params("trending", None) == {"half_life_days": 7.0}
    assert resolve_params("popularity", {}) == {}
    with pytest.raises(
        ValueError,
        match=r"unknown recipe 'svd'; allowed: als, ease, item_knn, popularity, sequential_rules, session_knn, "
        r"trending",
    ):
        resolve_params("svd", {})
    with pytest.raises(ValueError, match=r"unknown als param 'factor'; allowed params: alpha, cg_steps, factors"):
        resolve_params("als", {"factor": 8})
    with pytest.raises(ValueError, match=r"unknown popularity param 'x'; allowed params: none"):
        resolve_params("popularity", {"x": 1})
    with pytest.raises(ValueError, match=r"als param 'factors' must be an integer, got 8.5"):
        resolve_params("als", {"factors": 8.5})
    with pytest.raises(ValueError, match=r"als param 'factors' must be an integer, got True"):
        resolve_params("als", {"factors": True})
    with pytest.raises(ValueError, match=r"als param 'alpha' must be a finite number, got '1'"):
        resolve_params("als", {"alpha": "1"})
    with pytest.raises(ValueError, match=r"als param 'factors' must be between 1 and 1024, got 0"):
        resolve_params("als", {"factors": 0})
    with pytest.raises(ValueError, match=r"trending param 'half_life_days' must be between 0.001 and 36500"):
        resolve_params("trending", {"half_life_days": -1})
    with pytest.raises(ValueError, match=r"item_knn param 'binary' must be a boolean, got 1"):
        resolve_params("item_knn", {"binary": 1})
    assert resolve_params("als", {"factors": 16.0})["factors"] == 16


def test_ease_refuses_large_catalogs() -> None:
    with pytest.raises(
        ValueError, match=r"ease needs a dense 11 x 11 item matrix; catalogs above max_items=10"
    ) as error:
        EASE({"max_items": 10}).fit(two_clusters())
    message = str(error.value)
    assert "11 items need about 151 MB in the training function and 151 MB in every function serving" in message
    assert "(8 and 12 bytes x items² + 150 MB;" in message and "Lambda allows 10,240" in message
    # The default sits under what a 1,024 MB serving function holds; 20,000 items need 4.7 GB there.
    assert ease.memory_mb(EASE.DEFAULT_PARAMS["max_items"], ease.SERVING_BYTES_PER_CELL) <= 1_024
    assert (ease.memory_mb(20_000, 8), ease.memory_mb(20_000, 12)) == (3_202, 4_728)


def ease_reference(data: Interactions, l2: float, binary: bool = True) -> np.ndarray:
    """The closed form over the whole catalog in float64: B = -P / diag(P), P = (XᵀX + λI)⁻¹, diag(B) = 0."""
    x = np.zeros((data.n_users, data.n_items))
    np.add.at(x, (data.users, data.items), 1.0 if binary else data.weights.astype(np.float64))
    if binary:
        x = np.minimum(x, 1.0)
    p = np.linalg.inv(x.T @ x + l2 * np.eye(data.n_items))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


def random_events(n_users: int, n_items: int, n_events: int, catalog: list[str], seed: int = 3) -> Interactions:
    """Events with a skewed item popularity (repeats included), plus catalog items without events."""
    rng = np.random.default_rng(seed)
    items = np.minimum(rng.zipf(1.3, n_events) - 1, n_items - 1)
    users, weights = rng.integers(0, n_users, n_events), rng.random(n_events) * 3 + 0.5
    return Interactions.from_events(
        [f"u{u:03d}" for u in users],
        [f"i{i:03d}" for i in items],
        weights,
        np.zeros(n_events),
        catalog_item_ids=catalog,
    )


@pytest.mark.parametrize("binary", [True, False])
def test_ease_over_the_active_items_equals_the_closed_form_over_the_catalog(binary: bool) -> None:
    catalog = ["a-cold", "i500", "z-cold"]  # sort first, in the middle and last; no events
    data = random_events(40, 60, 500, catalog)
    active = np.bincount(data.items, minlength=data.n_items) > 0
    assert (~active).sum() >= 3 and active.sum() > 20
    model = EASE({"l2": 5.0, "binary": binary}).fit(data)
    assert model.weights.shape == (data.n_items, data.n_items) and model.weights.dtype == np.float32
    reference = ease_reference(data, 5.0, binary)  # (the Gram matrix itself is summed in float32)
    np.testing.assert_allclose(model.weights, reference, rtol=0, atol=1e-5 * np.abs(reference).max())
    assert not model.weights[~active].any() and not model.weights[:, ~active].any()
    # The fit of the same events without the cold items in the catalog is the active block, exactly.
    lean = Interactions.from_events(data.user_ids[data.users], data.item_ids[data.items], data.weights, data.timestamps)
    rows = np.flatnonzero(active)
    assert lean.item_ids.tolist() == data.item_ids[rows].tolist()
    np.testing.assert_array_equal(
        model.weights[np.ix_(rows, rows)], EASE({"l2": 5.0, "binary": binary}).fit(lean).weights
    )


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("method", ["dense", "pairs"])
def test_ease_float32_schur_inverse_matches_the_float64_closed_form(
    monkeypatch: pytest.MonkeyPatch, binary: bool, method: str
) -> None:
    # Tiny blocks: the recursion goes four levels deep and every update loop runs several blocks.
    monkeypatch.setattr(ease, "FLOAT64_MAX_ITEMS", 0)
    monkeypatch.setattr(ease, "INVERSE_BASE", 4)
    monkeypatch.setattr(ease, "INVERSE_BLOCK", 3)
    monkeypatch.setattr(ease, "DENSE_SECONDS_PER_MADD", 0.0 if method == "dense" else 1.0)
    data = random_events(50, 61, 700, ["cold"], seed=5)
    model = EASE({"l2": 2.0, "binary": binary}).fit(data)
    reference = ease_reference(data, 2.0, binary)
    np.testing.assert_allclose(model.weights, reference, rtol=0, atol=1e-5 * np.abs(reference).max())


@pytest.mark.parametrize("n", [1, 8, 9, 70])
def test_spd_inverse_in_place_matches_numpy(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    monkeypatch.setattr(ease, "INVERSE_BASE", 8)
    monkeypatch.setattr(ease, "INVERSE_BLOCK", 5)
    x = np.random.default_rng(n).standard_normal((n + 20, n))
    a = x.T @ x + np.eye(n)
    inverse = a.copy()
    ease.spd_inverse(inverse)
    np.testing.assert_allclose(inverse, np.linalg.inv(a), rtol=0, atol=1e-12 * np.abs(inverse).max())
    np.testing.assert_array_equal(inverse, inverse.T)


@pytest.mark.parametrize("binary", [True, False])
def test_pair_gram_equals_the_dense_gram(binary: bool) -> None:
    data = random_events(30, 45, 400, ["cold"], seed=9)
    x = data.csr().binarized() if binary else data.csr()
    dense, pairs = x.gram(), x.pair_gram()
    assert pairs.dtype == np.float32 and pairs.shape == (data.n_items, data.n_items)
    if binary:
        np.testing.assert_array_equal(pairs, dense)
    else:
        np.testing.assert_allclose(pairs, dense, rtol=1e-6)
    assert x.pair_count() == sum(n * (n + 1) // 2 for n in np.diff(x.indptr))


def test_unknown_rows_are_rejected_or_dropped() -> None:
    model = fitted("ease")
    with pytest.raises(IndexError):
        model.score_users(np.array([99]))
    with pytest.raises(IndexError):
        model.similar_items(-1, 3)
    np.testing.assert_array_equal(model.score_history([-1, 500], [1.0, 1.0]), np.zeros(model.n_items))


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_user_scores_matches_recommend(recipe: str) -> None:
    model = fitted(recipe)
    history = (np.array([5, 6]), np.ones(2))
    np.testing.assert_array_equal(model.user_scores(2), model.score_users(np.array([2]))[0])
    scores = model.user_scores(2, history)
    assert scores.shape == (model.n_items,) and scores.dtype == np.float32
    rows, values = model.recommend(2, 3, history=history)
    np.testing.assert_array_equal(values, scores[rows])
