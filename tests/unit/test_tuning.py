"""Automatic tuning (reco.training.tuning): the search, its budget, "auto", the popularity flag, MRR@K."""

from __future__ import annotations

from itertools import count
from typing import Any, get_args

import numpy as np
import pytest

from reco.evaluation import evaluate
from reco.models.interactions import Interactions
from reco.models.recipes import RECIPES, SESSION_RECIPES, resolve_params
from reco.schemas.models import ModelDefinition, Recipe
from reco.training.dataset import is_session_shaped
from reco.training.service import holdout_metrics, holdout_quality, tuned_choice
from reco.training.tuning import USER_RECIPES, NoHoldout, auto_candidates, tune
from tests.unit.test_models_evaluation import FixedScores


def sessions(n_sessions: int = 400, n_items: int = 100, seed: int = 1) -> Interactions:
    """Short anonymous sessions walking the catalog: item k is followed by item k + 1 nine times in ten."""
    rng = np.random.default_rng(seed)
    rows, items, times = [], [], []
    for s in range(n_sessions):
        item = int(rng.integers(n_items))
        for step in range(int(rng.integers(3, 7))):
            rows.append(f"s#{s}")
            items.append(f"i{item:03d}")
            times.append(s * 1000.0 + step)
            item = (item + 1) % n_items if rng.random() < 0.9 else int(rng.integers(n_items))
    return Interactions.from_events(rows, items, np.ones(len(rows)), times)


def users(n_users: int = 120, n_items: int = 120, per_user: int = 24, seed: int = 2) -> Interactions:
    """Users with long histories in two of six item clusters each, in no particular order."""
    rng = np.random.default_rng(seed)
    cluster = np.arange(n_items) % 6
    rows, items, times = [], [], []
    for u in range(n_users):
        pool = np.flatnonzero(np.isin(cluster, rng.choice(6, size=2, replace=False)))
        for item, t in zip(rng.choice(pool, size=per_user, replace=False), rng.permutation(per_user), strict=True):
            rows.append(f"u#{u}")
            items.append(f"i{item:03d}")
            times.append(float(t))
    return Interactions.from_events(rows, items, np.ones(len(rows)), times)


def popular(n_users: int = 200, n_items: int = 300, seed: int = 3) -> Interactions:
    """No tastes at all: each user has two of five best-sellers and ten random items of the long tail."""
    rng = np.random.default_rng(seed)
    rows, items, times = [], [], []
    for u in range(n_users):
        chosen = np.concatenate([rng.choice(np.arange(5, n_items), size=10, replace=False), rng.choice(5, 2, False)])
        for item, t in zip(chosen, rng.permutation(len(chosen)), strict=True):
            rows.append(f"u#{u}")
            items.append(f"i{item:03d}")
            times.append(float(t))
    return Interactions.from_events(rows, items, np.ones(len(rows)), times)


def ticking(step: float = 1.0) -> Any:
    """A clock that advances ``step`` seconds per reading: budgets in trials, independent of the machine."""
    ticks = count()
    return lambda: next(ticks) * step


def test_mrr_is_the_reciprocal_rank_of_the_first_hit_within_k() -> None:
    items = [f"i{i}" for i in range(6)]
    train = Interactions.from_events(["u0", "u1"], ["i0", "i1"], [1.0, 1.0], [0.0, 0.0], catalog_item_ids=items)
    test = {0: np.array([2, 3]), 1: np.array([4])}
    scores = np.array([[9, 8, 7, 1, 6, 5], [0, 9, 1, 2, 8, 3]], dtype=np.float32)
    # u0 ranks i1, i2, i4, i5, i3: first hit (i2) at rank 2. u1 ranks i4, …: first hit at rank 1.
    result = evaluate(FixedScores(scores), train, test, ks=(1, 3))
    assert result["mrr@1"] == pytest.approx((0 + 1) / 2)
    assert result["mrr@3"] == pytest.approx((1 / 2 + 1) / 2)
    assert result["recall@3"] == pytest.approx((1 / 2 + 1) / 2)  # the other keys are unchanged


def test_the_default_comes_first_and_the_chosen_is_the_best_trial() -> None:
    result = tune("ease", None, users(), "ndcg@20", budget_seconds=60, seed=0)
    first = result.trials[0]
    assert (first.recipe, first.params) == ("ease", resolve_params("ease", None))
    assert result.default is first
    values = [trial.value for trial in result.trials]
    assert result.best.value == max(values) >= result.default.value
    assert result.best is result.trials[values.index(max(values))]  # ties keep the earlier trial
    # EASE searches l2 alone over 7 values: every one is tried once, then the space is exhausted.
    assert result.stopped == "space"
    assert sorted(t.params["l2"] for t in result.trials) == sorted(RECIPES["ease"].SEARCH_SPACE["l2"])
    assert result.best.metrics["ndcg@20"] == result.best.value
    assert result.popularity < result.default.value


def test_a_seed_gives_the_same_search_and_another_seed_another_order() -> None:
    data = users()

    def trials(seed: int) -> list[tuple[Any, ...]]:
        result = tune("item_knn", None, data, "recall@20", budget_seconds=1e6, seed=seed)
        return [(t.params["neighbors"], t.params["shrink"], t.value) for t in result.trials]

    assert trials(4) == trials(4)
    assert trials(4) != trials(5)
    assert trials(4)[0] == trials(5)[0]  # the default first, whatever the seed


def test_params_given_with_tune_stay_fixed() -> None:
    result = tune("item_knn", {"shrink": 50}, users(), budget_seconds=1e6)
    assert {t.params["shrink"] for t in result.trials} == {50.0}
    assert len({t.params["neighbors"] for t in result.trials}) == len(RECIPES["item_knn"].SEARCH_SPACE["neighbors"])
    assert result.record()["trials"][0]["params"] == {"neighbors": 100}  # only what was searched


def test_a_tiny_budget_runs_the_default_only() -> None:
    # Each reading of the clock is a second later: the default trial alone takes more than the budget.
    result = tune("als", None, users(), budget_seconds=2, clock=ticking())
    assert [t.params for t in result.trials] == [resolve_params("als", None)]
    assert result.stopped == "budget"
    assert result.best is result.default


def test_the_budget_counts_the_slowest_trial_so_far() -> None:
    # A trial reads the clock 3 times (2 s on this clock); each later one is estimated at the slowest so far.
    result = tune("ease", None, users(), budget_seconds=12, clock=ticking())
    assert result.stopped == "budget"
    # Readings: 0 (start), 1-3 (default), 4 (check: 4 + 2 <= 12), 5-7, 8 (8 + 2 <= 12), 9-11, 12 (12 + 2 > 12).
    assert len(result.trials) == 3


@pytest.mark.parametrize("metric", ["recall@20", "ndcg@20", "mrr@20"])
def test_tuning_never_ends_below_the_default(metric: str) -> None:
    result = tune("als", {"iterations": 5}, users(), metric, budget_seconds=30, seed=1, clock=ticking())
    assert result.best.value >= result.default.value
    record = result.record()
    assert record["chosen"]["value"] >= record["default"]["value"]
    assert record["default"]["params"]["iterations"] == 5


def test_auto_picks_a_session_recipe_on_session_shaped_data() -> None:
    data = sessions()
    assert is_session_shaped(data)
    assert auto_candidates(data) == [*sorted(SESSION_RECIPES), *USER_RECIPES]
    # Next-item data: what counts is the rank of the one next item (MRR); a set-based recipe cannot tell
    # the item after from the item before. The budget affords the five candidates' defaults (4 readings each).
    result = tune("auto", None, data, "mrr@20", budget_seconds=20, clock=ticking())
    assert (len(result.trials), result.stopped) == (5, "budget")
    assert result.best.recipe in SESSION_RECIPES
    defaults = {t.recipe: t.value for t in result.trials if t.params == resolve_params(t.recipe, None)}
    assert set(defaults) == set(auto_candidates(data))  # every candidate ran with its defaults
    assert min(defaults[name] for name in SESSION_RECIPES) > max(defaults[name] for name in USER_RECIPES)
    assert result.default.value == max(defaults.values())
    assert result.best.value >= result.default.value > 5 * result.popularity


def test_auto_picks_a_user_recipe_on_user_shaped_data() -> None:
    data = users()
    assert not is_session_shaped(data)
    result = tune("auto", None, data, "ndcg@20", budget_seconds=40, clock=ticking())
    assert len(result.trials) > 3  # the defaults, then a search
    assert {t.recipe for t in result.trials} == set(USER_RECIPES)
    assert result.best.recipe in USER_RECIPES
    assert result.best.value > 1.5 * result.popularity


def test_auto_drops_ease_above_its_item_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(RECIPES["ease"].DEFAULT_PARAMS, "max_items", 50)
    assert auto_candidates(users(n_items=120)) == ["item_knn", "als"]


def test_a_personal_recipe_below_popularity_is_flagged() -> None:
    data = popular()
    knn = holdout_metrics("item_knn", resolve_params("item_knn", None), data)
    assert knn["holdout_recall@20"] < knn["holdout_popularity_recall@20"]
    assert holdout_quality(knn) == "below_popularity"
    assert holdout_quality(holdout_metrics("item_knn", resolve_params("item_knn", None), users())) == "ok"
    assert holdout_quality({"n_events": 3}) is None  # no holdout, no verdict
    # Tuned, the flag reads the tuning metric.
    tuned = {"tuning": {"metric": "mrr@20"}, "holdout_recall@20": 0.1, "holdout_mrr@20": 0.2}
    assert holdout_quality({**tuned, "holdout_popularity_mrr@20": 0.3}) == "below_popularity"


def test_tuned_choice_records_the_search_in_the_metrics() -> None:
    recipe, params, metrics = tuned_choice("ease", {}, {"metric": "mrr@20", "budget_seconds": 60, "seed": 2}, users())
    tuning = metrics["tuning"]
    assert recipe == "ease" and params == tuning["chosen"]["params"]
    assert (tuning["metric"], tuning["budget_seconds"], tuning["seed"], tuning["stopped"]) == ("mrr@20", 60, 2, "space")
    assert tuning["default"] == {
        "recipe": "ease",
        "params": resolve_params("ease", None),
        "value": tuning["trials"][0]["value"],
    }
    assert tuning["chosen"]["value"] == max(t["value"] for t in tuning["trials"]) == metrics["holdout_mrr@20"]
    assert metrics["holdout_popularity_mrr@20"] == tuning["popularity"]
    assert set(tuning["trials"][0]) == {"recipe", "params", "value", "fit_seconds"}
    assert holdout_quality(metrics) == "ok"


def test_without_a_holdout_tuning_is_skipped_and_auto_falls_back() -> None:
    one_each = Interactions.from_events(["u#a", "u#b"], ["i1", "i2"], [1.0, 1.0], [0.0, 1.0])
    with pytest.raises(NoHoldout):
        tune("als", None, one_each)
    recipe, params, metrics = tuned_choice("auto", {}, {}, one_each)
    assert (recipe, params) == ("als", resolve_params("als", None))
    assert "nothing to hold out" in metrics["tuning"]["skipped"]
    assert holdout_quality(metrics) is None


def test_every_recipe_and_auto_are_in_the_api() -> None:
    assert set(get_args(Recipe)) == {*RECIPES, "auto"}
    for name in RECIPES:
        assert name in ModelDefinition.model_fields["recipe"].description  # type: ignore[operator]


@pytest.mark.parametrize(
    ("definition", "tune_spec"),
    [
        ({"recipe": "als"}, None),
        ({"recipe": "als", "params": "auto"}, {"metric": "recall@20", "budget_seconds": 120, "seed": 0}),
        ({"recipe": "auto"}, {"metric": "recall@20", "budget_seconds": 120, "seed": 0}),
        (
            {"recipe": "auto", "params": "auto", "tune": {"metric": "mrr@20"}},
            {"metric": "mrr@20", "budget_seconds": 120, "seed": 0},
        ),
        (
            {"recipe": "ease", "params": {"l2": 10}, "tune": {"budget_seconds": 5, "seed": 9}},
            {"metric": "recall@20", "budget_seconds": 5, "seed": 9},
        ),
    ],
)
def test_definitions_store_the_tune_spec(definition: dict[str, Any], tune_spec: dict[str, Any] | None) -> None:
    parsed = ModelDefinition.model_validate(definition)
    assert parsed.stored_tune() == tune_spec
    assert parsed.stored_params() == ({} if definition.get("params") in (None, "auto") else definition["params"])


def test_budgets_and_seeds_are_bounded() -> None:
    for bad in (
        {"budget_seconds": 0},
        {"budget_seconds": 841},
        {"seed": -1},
        {"metric": "recall@10"},
        {"budget_seconds": "5"},
    ):
        with pytest.raises(ValueError):
            ModelDefinition.model_validate({"recipe": "als", "tune": bad})


def test_large_holdouts_are_scored_on_a_seeded_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    from reco.evaluation import sample_test
    from reco.training import tuning

    test = {row: np.array([row]) for row in range(100)}
    picked = sample_test(test, 10, seed=0)
    assert len(picked) == 10 and picked == sample_test(test, 10, seed=0)
    assert set(picked) != set(sample_test(test, 10, seed=1)) and set(picked) <= set(test)
    assert sample_test(test, None) == test and sample_test(test, 500) == test

    data = sessions()
    everyone = holdout_metrics("sequential_rules", resolve_params("sequential_rules", None), data)
    monkeypatch.setattr(tuning, "HOLDOUT_MAX_ROWS", 50)
    sampled = holdout_metrics("sequential_rules", resolve_params("sequential_rules", None), data)
    assert everyone["holdout_n_users"] == 398 and sampled["holdout_n_users"] == 50
    result = tune("sequential_rules", None, data, budget_seconds=60)
    assert all(trial.metrics["n_users"] == 50 for trial in result.trials)
