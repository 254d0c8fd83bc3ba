from __future__ import annotations

import numpy as np

from reco.models.topk import top_k, top_k_rows


def test_best_first_with_scores() -> None:
    rows, scores = top_k(np.array([0.1, 0.9, 0.5, 0.7]), 2)
    assert rows.tolist() == [1, 3]
    assert scores.dtype == np.float32
    np.testing.assert_allclose(scores, [0.9, 0.7])


def test_ties_are_ordered_by_index_even_at_the_cut() -> None:
    scores = np.array([1.0, 2.0, 1.0, 2.0, 1.0, 1.0])
    assert top_k(scores, 3)[0].tolist() == [1, 3, 0]
    assert top_k(scores, 4)[0].tolist() == [1, 3, 0, 2]
    assert top_k(np.zeros(1000), 5)[0].tolist() == [0, 1, 2, 3, 4]


def test_k_larger_than_the_scores_returns_everything() -> None:
    rows, _ = top_k(np.array([3.0, 1.0, 2.0]), 10)
    assert rows.tolist() == [0, 2, 1]
    assert len(top_k(np.array([3.0]), 0)[0]) == 0
    assert len(top_k(np.empty(0), 3)[0]) == 0


def test_mask_nan_and_minus_inf_are_never_returned() -> None:
    scores = np.array([5.0, np.nan, 4.0, -np.inf, 3.0, np.inf])
    mask = np.array([False, False, True, False, False, False])
    rows, values = top_k(scores, 10, mask)
    assert rows.tolist() == [5, 0, 4]
    assert values[0] == np.inf


def test_batched_rows() -> None:
    scores = np.array([[0.1, 0.3, 0.2], [-np.inf, 1.0, 2.0]], dtype=np.float32)
    assert top_k_rows(scores, 2).tolist() == [[1, 2], [2, 1]]
    assert top_k_rows(scores, 5).shape == (2, 3)
