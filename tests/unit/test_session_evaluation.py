"""The session protocol (reco.session_evaluation): split, predictions, HR/MRR by hand, sampling, and the CLI."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from reco.cli import main
from reco.datasets import Ratings
from reco.models.base import Arrays, Recommender
from reco.models.interactions import F32, I64, Interactions
from reco.models.recipes import fit_recipe
from reco.session_evaluation import (
    evaluate_sessions,
    format_session_table,
    sample_sessions,
    sequences_from_ratings,
    session_quality_table,
    split_sessions,
    target_ranks,
)

CATALOG = list("abcdefgh")


class HistoryScores(Recommender):
    """Scores a history with a given function of its item rows (oldest first), so ranks can be worked out by hand."""

    recipe: ClassVar[str] = "history_scores"
    DEFAULT_PARAMS: ClassVar[dict[str, Any]] = {}
    ORDERED_HISTORY: ClassVar[bool] = True

    def __init__(self, n_items: int, score: Callable[[list[int]], list[float]]) -> None:
        super().__init__()
        self.n_items, self.score, self.seen = n_items, score, []  # type: list[list[int]]

    def _fit(self, interactions: Interactions) -> None:
        raise NotImplementedError

    def _score_users(self, user_rows: I64) -> F32:
        raise NotImplementedError

    def _score_history(self, items: I64, weights: F32) -> F32:
        self.seen.append(items.tolist())
        return np.array(self.score(items.tolist()), dtype=np.float32)

    def _to_arrays(self) -> Arrays:
        return {}

    def _from_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        pass


def sessions(paths: dict[str, tuple[str, float]]) -> Interactions:
    """Rows named by key, each the items of its string at times start, start + 1, …"""
    rows, items, times = [], [], []
    for row, (path, start) in paths.items():
        for step, item in enumerate(path):
            rows.append(row)
            items.append(item)
            times.append(start + step)
    return Interactions.from_events(rows, items, np.ones(len(rows)), times, catalog_item_ids=CATALOG)


def row_names(data: Interactions, rows: I64) -> list[str]:
    return [str(data.user_ids[r]) for r in rows]


def test_the_newest_rows_by_last_event_are_tested_and_never_trained_on() -> None:
    # s_late starts before the tied pair but ends last; s_tie and s_tie2 end together (ordered by row).
    data = sessions(
        {"s1": ("abc", 0), "s2": ("bcd", 10), "s_late": ("abcdefg", 26), "s_tie": ("ab", 30), "s_tie2": ("cd", 30)}
    )
    split = split_sessions(data, test_fraction=0.4)  # ceil(0.4 x 5) = 2
    assert row_names(data, split.test_rows) == ["s_tie2", "s_late"]
    train_rows = set(row_names(data, np.unique(split.train.users)))
    assert train_rows == {"s1", "s2", "s_tie"}
    assert split.train.n_events == 3 + 3 + 2
    assert split.train.item_ids.tolist() == CATALOG  # same universes: item rows mean the same in both parts
    late = int(split.test_rows[1])
    assert split.test.row(late).tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert split.predictions() == (2 - 1) + (7 - 1)
    assert split_sessions(data, 0.0).test_rows.tolist() == []
    assert len(split_sessions(data, 1.0).test_rows) == 4  # at least one row stays to train on


def test_every_position_after_the_first_is_one_prediction_of_the_next_item() -> None:
    # "abca": a repeated item counts once, at its latest position, so the session reads b, c, a.
    data = sessions({"train": ("ab", 0), "t1": ("abca", 10), "t2": ("dgfe", 20), "t3": ("h", 30)})
    split = split_sessions(data, test_fraction=0.75)
    model = HistoryScores(8, lambda history: [0.0] * 8)
    result = evaluate_sessions(model, split, ks=(10,))
    assert result["n_sessions"] == 2  # a one-item session predicts nothing
    assert result["n_predictions"] == (3 - 1) + (4 - 1)
    assert model.seen == [[1], [1, 2], [3], [3, 6], [3, 6, 5]]  # histories oldest first, targets never in them


def test_hr_and_mrr_by_hand_with_the_history_excluded() -> None:
    data = sessions({"train": ("abcdefgh", 0), "test": ("hgb", 10)})
    split = split_sessions(data, test_fraction=0.5)
    # Scores favour the history's own items (as ALS and EASE do); they are excluded, so:
    # after [h]: g is ranked behind a only (h excluded) -> rank 2; after [h, g]: b after a, c -> rank 3.
    fixed = [7.0, 3.0, 4.0, 0.0, 0.0, 0.0, 6.0, 9.0]

    def score(history: list[int]) -> list[float]:
        return [100.0 if item in history else value for item, value in enumerate(fixed)]

    result = evaluate_sessions(HistoryScores(8, score), split, ks=(1, 2, 3))
    assert result["n_predictions"] == 2
    assert result["hr@1"] == 0.0 and result["mrr@1"] == 0.0
    assert result["hr@2"] == pytest.approx(0.5) and result["mrr@2"] == pytest.approx((1 / 2) / 2)
    assert result["hr@3"] == pytest.approx(1.0) and result["mrr@3"] == pytest.approx((1 / 2 + 1 / 3) / 2)


def test_sequential_rules_learn_a_path_and_predict_it_at_rank_one() -> None:
    paths = {f"s{i}": ("abc", 10.0 * i) for i in range(8)}
    data = sessions({**paths, "test": ("abc", 100)})
    split = split_sessions(data, test_fraction=0.1)
    assert row_names(data, split.test_rows) == ["test"]
    model = fit_recipe("sequential_rules", None, split.train)
    result = evaluate_sessions(model, split, ks=(1, 20))
    assert result["n_predictions"] == 2  # a -> b, then a, b -> c
    assert result["hr@1"] == 1.0 and result["mrr@1"] == 1.0 and result["mrr@20"] == 1.0


def test_a_target_unknown_to_training_is_a_miss_even_if_ranked_first() -> None:
    data = sessions({"train": ("ab", 0), "test": ("ah", 10)})  # h has no training event
    split = split_sessions(data, test_fraction=0.5)
    always_h = HistoryScores(8, lambda history: [0, 0, 0, 0, 0, 0, 0, 9.0])
    result = evaluate_sessions(always_h, split, ks=(10,))
    assert result["n_predictions"] == 1 and result["hr@10"] == 0.0 and result["mrr@10"] == 0.0


def test_ranks_break_ties_by_item_row_and_a_target_scored_minus_infinity_is_a_miss() -> None:
    scores = np.array([[1, 2, 2, 2, 0], [1, 2, 2, 2, 0], [0, 0, -np.inf, 0, 0], [np.nan, 1, 0, 0, 0]], np.float32)
    ranks = target_ranks(scores, np.array([1, 3, 2, 2]))
    assert ranks.tolist() == [1.0, 3.0, np.inf, 2.0]  # NaN scores are never above a target


def test_the_sample_is_seeded_whole_sessions_in_time_order() -> None:
    rng = np.random.default_rng(1)
    paths = {f"s{i:02d}": ("".join(rng.choice(CATALOG, 5, replace=False)), float(i)) for i in range(40)}
    split = split_sessions(sessions(paths), test_fraction=0.5)  # 20 sessions of 4 predictions
    everything = sample_sessions(split, None)
    assert everything.tolist() == split.test_rows.tolist()
    sample = sample_sessions(split, 30, seed=3)
    assert sample.tolist() == sample_sessions(split, 30, seed=3).tolist()
    assert sample.tolist() != sample_sessions(split, 30, seed=4).tolist()
    assert split.predictions(sample) == 32  # whole sessions until 30 is reached
    position = {int(r): p for p, r in enumerate(split.test_rows)}
    assert [position[int(r)] for r in sample] == sorted(position[int(r)] for r in sample)
    assert len(sample_sessions(split, 10_000)) == 20


def test_quality_table_over_ratings_read_as_sequences() -> None:
    rng = np.random.default_rng(0)
    n = 600
    ratings = Ratings(
        user_ids=[f"u{u}" for u in rng.integers(0, 30, n)],
        item_ids=[f"m{i}" for i in rng.integers(0, 40, n)],
        ratings=rng.integers(1, 6, n).astype(np.float32),
        timestamps=rng.random(n) * 1e6,
        items={"m99": {"title": "never rated"}},
    )
    interactions = sequences_from_ratings(ratings, threshold=4)
    assert interactions.n_events == int((ratings.ratings >= 4).sum())
    assert "m99" in interactions.item_ids.tolist() and set(interactions.weights.tolist()) == {1.0}
    rows = session_quality_table(interactions, {"popularity": None, "sequential_rules": {"max_distance": 3}}, ks=(5,))
    assert [r["recipe"] for r in rows] == ["popularity", "sequential_rules"]
    assert rows[1]["params"]["max_distance"] == 3
    assert rows[0]["n_predictions"] == rows[1]["n_predictions"] > 0
    assert 0.0 <= rows[0]["mrr@5"] <= rows[0]["hr@5"] <= 1.0 and rows[0]["ms_per_prediction"] >= 0.0
    table = format_session_table(rows, ks=(5,))
    assert table.splitlines()[0].split()[:3] == ["recipe", "hr@5", "mrr@5"] and "sequential_rules" in table


def write_paths_as_ml100k(folder: Path, paths: list[str]) -> None:
    """A MovieLens 100K folder where user u rated the items of paths[u - 1] with 5s, in order, a user after another."""
    folder.mkdir()
    lines, clock = [], 881250949
    for user, path in enumerate(paths, start=1):
        for item in path:
            clock += 1
            lines.append(f"{user}\t{item}\t5\t{clock}\n")
    (folder / "u.data").write_text("".join(lines))
    (folder / "u.genre").write_text("unknown|0\nAction|1\n\n")
    (folder / "u.item").write_text("".join(f"{i}|Movie {i} (1995)|01-Jan-1995||http://x|0|1\n" for i in "1234"))


def test_cli_session_protocol_on_a_movielens_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_paths_as_ml100k(tmp_path / "ml", ["123"] * 6)  # users 5 and 6 are tested: 2 + 2 predictions
    argv = ["evaluate", "--movielens", str(tmp_path / "ml"), "--protocol", "session", "--recipes", "sequential_rules"]
    assert main([*argv, "--k", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2 test sessions, 4 predictions"
    assert lines[1].split()[:3] == ["recipe", "hr@1", "mrr@1"]
    assert lines[2].split()[:3] == ["sequential_rules", "1.0000", "1.0000"]
    assert main(["evaluate", "--movielens", str(tmp_path / "ml"), "--max-predictions", "5"]) == 2
    assert "add --protocol session" in capsys.readouterr().err


@pytest.mark.store_contract
def test_cli_session_protocol_over_the_stored_events(
    aws: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_paths_as_ml100k(tmp_path / "ml", ["123", "123", "123", "123", "234", "123"])
    assert main(["--tenant", "films", "import-movielens", str(tmp_path / "ml")]) == 0
    assert main(["--tenant", "films", "train", "knn", "--recipe", "item_knn"]) == 0
    capsys.readouterr()
    argv = ["--tenant", "films", "evaluate", "knn", "--protocol", "session", "--k", "1,2"]
    assert main([*argv, "--recipes", "item_knn,sequential_rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "18 events, 2 test sessions, 4 predictions"
    assert lines[1].split()[:5] == ["recipe", "hr@1", "mrr@1", "hr@2", "mrr@2"]
    rules = next(line.split() for line in lines[2:] if line.startswith("sequential_rules"))
    # 1 -> 2 and 2 -> 3 are learnt; 4 never is (user 5's path 2, 3, 4 is tested): three of four at rank 1.
    assert rules[1:3] == ["0.7500", "0.7500"]
    assert any(line.startswith("item_knn") for line in lines[2:])


def test_tuned_rows_and_auto_follow_the_default_rows() -> None:
    from reco.session_evaluation import session_quality_table
    from tests.unit.test_tuning import sessions as chain_sessions

    rows = session_quality_table(chain_sessions(), ["popularity", "sequential_rules"], ks=(20,), tune_budget=30)
    labels = [row["label"] for row in rows]
    assert labels[:3] == ["popularity", "sequential_rules", "sequential_rules tuned"]  # popularity has no space
    assert labels[3] == f"auto: {rows[3]['recipe']}" and rows[3]["recipe"] not in ("popularity", "trending")
    assert rows[0]["tune_seconds"] == 0.0 and rows[2]["tune_seconds"] > 0.0
    assert rows[2]["params"] != rows[1]["params"] or rows[2]["hr@20"] == rows[1]["hr@20"]
    assert rows[3]["hr@20"] > rows[0]["hr@20"] + 0.3
