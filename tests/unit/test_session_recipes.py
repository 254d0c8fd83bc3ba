"""The session recipes (session_knn, sequential_rules) against hand-checked answers and a loop-based reference."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from reco.models.artifact import ModelArtifact
from reco.models.interactions import Interactions
from reco.models.recipes import fit_recipe, resolve_params
from reco.models.sequences import Sequences, distance_weights, position_weights
from reco.models.sequential_rules import SequentialRules
from reco.models.session_knn import SessionKNN


def sessions(paths: dict[str, list[str]], start: float = 0.0) -> Interactions:
    """One event per step of each path, a second apart; sessions start an hour apart in insertion order."""
    rows, items, times = [], [], []
    for n, (session, path) in enumerate(paths.items()):
        for step, item in enumerate(path):
            rows.append(session)
            items.append(item)
            times.append(start + 3600.0 * n + step)
    return Interactions.from_events(rows, items, np.ones(len(rows), np.float32), times)


def rows_of(data: Interactions, *names: str) -> np.ndarray:
    return data.item_index(list(names))


def ranked(model: Any, data: Interactions, history: list[str]) -> list[str]:
    scores = model.score_history(rows_of(data, *history), np.ones(len(history), np.float32))
    order = np.lexsort((np.arange(len(scores)), -scores))
    return [str(data.item_ids[r]) for r in order if scores[r] > 0]


def test_sequences_keep_time_order_and_each_item_at_its_latest_event() -> None:
    data = Interactions.from_events(
        ["s1", "s1", "s1", "s2", "s1"], ["b", "a", "c", "a", "b"], np.ones(5, np.float32), [1.0, 2.0, 3.0, 9.0, 4.0]
    )
    sequences = Sequences.from_interactions(data)
    s1, s2 = data.user_index(["s1", "s2"])
    assert [str(data.item_ids[i]) for i in sequences.row(s1)] == ["a", "c", "b"]  # b moved to its last click
    assert [str(data.item_ids[i]) for i in sequences.row(s2)] == ["a"]
    assert sequences.last_time.tolist() == [4.0, 9.0]


def test_sequential_rules_follow_the_newest_item_weighted_by_distance() -> None:
    data = sessions({f"s{i}": ["a", "b", "c", "d"] for i in range(3)} | {"x": ["a", "c"]})
    model = SequentialRules({"max_distance": 2}).fit(data)
    after_a = model.score_history(rows_of(data, "a"), [1.0])
    a_b, a_c, a_d = after_a[rows_of(data, "b", "c", "d")]
    assert (a_b, a_c, a_d) == (3.0, 1.5 + 1.0, 0.0)  # b: 3 x 1/1; c: 3 x 1/2 + once adjacent; d beyond the window
    assert ranked(model, data, ["a", "b"]) == ["c", "d"]  # only the newest item's rules count by default
    assert ranked(model, data, ["b", "a"]) == ["b", "c"]  # order matters


def test_sequential_rules_keep_the_strongest_rules_per_item_and_can_blend_earlier_items() -> None:
    data = sessions({"s1": ["a", "b"], "s2": ["a", "b"], "s3": ["a", "c"], "s4": ["z", "d"]})
    pruned = SequentialRules({"rules_per_item": 1}).fit(data)
    assert ranked(pruned, data, ["a"]) == ["b"]
    blended = SequentialRules({"history_decay": 0.5}).fit(data)
    scores = blended.score_history(rows_of(data, "z", "a"), [1.0, 1.0])
    assert scores[rows_of(data, "d")[0]] == 0.5  # z's rule, one step back
    assert scores[rows_of(data, "b")[0]] == 2.0


def test_a_session_history_is_a_sequence_unknown_items_dropped_repeats_at_their_latest_position() -> None:
    data = sessions({"s1": ["a", "b"], "s2": ["b", "c"]})
    model = SequentialRules().fit(data)
    items, weights = model.clean_sequence([0, -1, 1, 0, 99], [1.0, 1.0, 2.0, 3.0, 1.0])
    assert items.tolist() == [1, 0] and weights.tolist() == [2.0, 4.0]
    assert ranked(model, data, ["b", "a", "b"]) == ["c"]  # b is the newest


def reference_vsknn(data: Interactions, history: list[int], params: dict[str, Any], exclude: int = -1) -> np.ndarray:
    """V-SKNN written with loops straight from its definition (see reco.models.session_knn)."""
    history = history[-params["session_items"] :]
    by_row: dict[int, list[tuple[float, int]]] = {}
    for row, item, time in zip(data.users.tolist(), data.items.tolist(), data.timestamps.tolist(), strict=True):
        by_row.setdefault(row, []).append((time, item))
    paths, last = {}, {}
    for row, events in by_row.items():
        latest: dict[int, float] = {}
        for time, item in sorted(events):
            latest[item] = time
        paths[row] = [item for item, _ in sorted(latest.items(), key=lambda kv: (kv[1], kv[0]))]
        last[row] = max(t for t, _ in events)
    n_rows = len(paths)
    df = {i: sum(i in p for p in paths.values()) for i in range(data.n_items)}
    idf = {i: math.log(n_rows / df[i]) if df[i] else 0.0 for i in df}
    length = len(history)
    positions = position_weights(length, params["weighting"])
    weight = {
        item: float(positions[k]) * (idf[item] if params["idf_weighting"] else 1.0) for k, item in enumerate(history)
    }
    steps = {item: length - k for k, item in enumerate(history)}
    sharing = [r for r, p in paths.items() if r != exclude and set(p) & set(history)]
    sharing.sort(key=lambda r: (-last[r], r))
    sampled = sharing[: params["sample_size"]]
    similarity = {r: sum(weight[i] for i in paths[r] if i in weight) for r in sampled}
    neighbours = sorted((r for r in sampled if similarity[r] > 0), key=lambda r: (-similarity[r], r))[
        : params["neighbors"]
    ]
    scores = np.zeros(data.n_items)
    for r in neighbours:
        nearest = min(steps[i] for i in paths[r] if i in steps)
        vote = similarity[r] * float(distance_weights([nearest], params["score_weighting"])[0])
        anchor = next(k for k, i in enumerate(paths[r]) if steps.get(i) == nearest)
        for k, item in enumerate(paths[r]):
            window = params["neighbor_window"]
            scores[item] += vote * (math.exp(-abs(k - anchor) / window) if window > 0 else 1.0)
    return scores


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"neighbor_window": 0.0, "weighting": "same", "score_weighting": "same", "idf_weighting": False},
        {"neighbors": 3, "sample_size": 5, "weighting": "quadratic", "score_weighting": "linear"},
        {"session_items": 2, "weighting": "log", "score_weighting": "quadratic", "neighbor_window": 1.5},
    ],
)
def test_session_knn_matches_its_definition(given: dict[str, Any]) -> None:
    rng = np.random.default_rng(7)
    n_events = 400
    rows = rng.integers(0, 40, n_events)
    items = rng.zipf(1.6, n_events) % 30
    times = rng.permutation(n_events).astype(np.float64)
    data = Interactions.from_events([f"s{r:02d}" for r in rows], [f"i{i:02d}" for i in items], np.ones(n_events), times)
    params = resolve_params("session_knn", given)
    model = SessionKNN(params).fit(data)
    for _ in range(5):
        history = [int(i) for i in rng.choice(data.n_items, size=int(rng.integers(1, 6)), replace=False)]
        expected = reference_vsknn(data, history, params)
        got = model.score_history(np.array(history), np.ones(len(history), np.float32))
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=f"history {history}")
    row = 3  # a known row is scored from its own sequence, without itself as a neighbour
    own = [int(i) for i in model.sequences.row(row)]
    np.testing.assert_allclose(
        model.score_users(np.array([row]))[0], reference_vsknn(data, own, params, exclude=row), rtol=1e-4, atol=1e-5
    )


def test_session_knn_samples_the_most_recent_sessions() -> None:
    old = {f"old{i}": ["a", "x"] for i in range(5)}
    new = {f"new{i}": ["a", "y"] for i in range(2)}
    data = sessions(old | new)  # the "new" sessions come last
    model = SessionKNN({"sample_size": 2, "idf_weighting": False}).fit(data)
    assert ranked(model, data, ["a"]) == ["a", "y"]  # x only in older sessions
    everyone = SessionKNN({"sample_size": 100, "idf_weighting": False}).fit(data)
    assert ranked(everyone, data, ["a"]) == ["a", "x", "y"]


@pytest.mark.parametrize("recipe", ["session_knn", "sequential_rules"])
def test_session_recipes_survive_the_artifact_and_serve_known_rows(recipe: str) -> None:
    data = sessions(
        {f"s{i}": ["a", "b", "c", "d"][i % 2 :] for i in range(6)} | {f"t{i}": ["x", "y"] for i in range(6)}
    )
    artifact = ModelArtifact.train(recipe, None, data)
    loaded = ModelArtifact.from_bytes(artifact.to_bytes())
    history = (rows_of(data, "a", "b"), np.ones(2, np.float32))
    np.testing.assert_array_equal(loaded.model.user_scores(None, history), artifact.model.user_scores(None, history))
    row = artifact.user_row("s1")
    assert row is not None
    np.testing.assert_array_equal(loaded.model.user_scores(row), artifact.model.user_scores(row))
    # A known row with a fresh click: its stored sequence, then the click (the newest).
    combined = loaded.model.user_scores(row, (rows_of(data, "b"), np.ones(1, np.float32)))
    assert not np.array_equal(combined, loaded.model.user_scores(row))
    if recipe == "sequential_rules":
        assert int(np.argmax(combined)) == int(rows_of(data, "c")[0])
    assert loaded.model.contributions(None, history, np.array([0])) is None


@pytest.mark.parametrize(
    ("recipe", "params", "message"),
    [
        (
            "session_knn",
            {"weighting": "cubic"},
            "session_knn param 'weighting' must be one of same, linear, quadratic, log",
        ),
        ("session_knn", {"neighbors": 0}, "session_knn param 'neighbors' must be between 1 and 5000"),
        ("sequential_rules", {"weighting": 3}, "sequential_rules param 'weighting' must be a str, got 3"),
        ("sequential_rules", {"history_decay": 2}, "sequential_rules param 'history_decay' must be between 0 and 1"),
    ],
)
def test_session_recipe_params_are_checked(recipe: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_params(recipe, params)


def test_every_search_space_value_is_a_valid_param() -> None:
    from reco.models.recipes import RECIPES

    for name, cls in RECIPES.items():
        for key, values in cls.SEARCH_SPACE.items():
            for value in values:
                assert resolve_params(name, {key: value})[key] == value, (name, key, value)


def test_an_empty_or_unknown_history_scores_nothing() -> None:
    data = sessions({"s1": ["a", "b"]})
    for recipe in ("session_knn", "sequential_rules"):
        model = fit_recipe(recipe, None, data)
        assert not model.score_history([], []).any()
        assert not model.score_history([-1], [1.0]).any()
