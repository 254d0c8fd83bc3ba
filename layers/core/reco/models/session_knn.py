"""Session-based kNN, V-SKNN of Ludewig & Jannach, "Evaluation of session-based recommendation algorithms" (2018).

For the current session s (items oldest first):

1. candidate neighbours: training sessions sharing an item with s; of those, the ``sample_size``
   most recent (by their newest event) are kept;
2. similarity: sim(s, n) = Σ_{i ∈ s ∩ n} pos(i) · idf(i)^[idf_weighting], where pos weighs the newest
   items of s most (``weighting``) and idf(i) = log(n_sessions / n_sessions holding i);
3. the ``neighbors`` most similar sessions vote: score(j) = Σ_{n ∋ j} sim(s, n) · decay(n), where
   decay (``score_weighting``) shrinks the vote of a neighbour whose newest shared item lies further
   back in s (1 / steps for ``div``).

The artifact holds the training sequences, an item → sessions index ordered newest first (so the
most recent ``sample_size`` sessions of each item are a prefix) and the idf vector. A request reads
at most ``sample_size`` postings per history item and the items of the sampled sessions: no loop over
the catalog or over sessions in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from reco.models.interactions import F32, I32, I64, Interactions, segment_positions
from reco.models.sequences import (
    DISTANCE_WEIGHTINGS,
    POSITION_WEIGHTINGS,
    SessionRecommender,
    distance_weights,
    position_weights,
)
from reco.models.topk import top_k


class SessionKNN(SessionRecommender):
    """V-SKNN: the items of the most similar recent sessions, weighted by similarity and recency of the match."""

    recipe: ClassVar[str] = "session_knn"
    DEFAULT_PARAMS: ClassVar[dict[str, Any]] = {
        "neighbors": 100,
        "sample_size": 1000,
        "weighting": "linear",
        "score_weighting": "div",
        "idf_weighting": True,
        "session_items": 20,
        "neighbor_window": 5.0,
    }
    PARAM_RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "neighbors": (1, 5_000),
        "sample_size": (1, 50_000),
        "session_items": (1, 1_000),
        "neighbor_window": (0.0, 1e6),
    }
    PARAM_CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "weighting": POSITION_WEIGHTINGS,
        "score_weighting": DISTANCE_WEIGHTINGS,
    }
    SEARCH_SPACE: ClassVar[dict[str, tuple[Any, ...]]] = {
        "neighbors": (50, 100, 200, 500),
        "sample_size": (500, 1000, 2500),
        "weighting": ("linear", "quadratic", "same"),
        "score_weighting": ("div", "linear", "same"),
        "idf_weighting": (True, False),
    }

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(params)
        self.postings_indptr: npt.NDArray[np.int64] = np.zeros(1, dtype=np.int64)
        self.postings: I32 = np.zeros(0, dtype=np.int32)  # recency ranks of each item's sessions, ascending
        self.rank_rows: I32 = np.zeros(0, dtype=np.int32)  # the session of each recency rank (0 = newest)
        self.idf: F32 = np.zeros(0, dtype=np.float32)
        self._keys: npt.NDArray[np.int64] | None = None

    def _fit_sequences(self, interactions: Interactions) -> None:
        sequences, n = self.sequences, self.n_items
        self._keys = None
        rows = sequences.row_ids()
        items = sequences.items.astype(np.int64)
        # Sessions ranked by recency (0 = newest, ties by row); each item's postings hold the ranks of its
        # sessions in ascending order, so the newest sessions of a set of items are the smallest ranks.
        self.rank_rows = np.lexsort((np.arange(sequences.n_rows), -sequences.last_time)).astype(np.int32)
        rank_of = np.empty(sequences.n_rows, dtype=np.int64)
        rank_of[self.rank_rows] = np.arange(sequences.n_rows)
        order = np.lexsort((rank_of[rows], items))
        self.postings = rank_of[rows][order].astype(np.int32)
        counts = np.bincount(items, minlength=n)
        self.postings_indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        n_sessions = max(sequences.n_rows, 1)
        idf = np.zeros(n, dtype=np.float64)
        held = counts > 0
        idf[held] = np.log(n_sessions / counts[held])
        self.idf = idf.astype(np.float32)

    def _neighbour_candidates(self, items: I64, exclude_row: int) -> I64:
        """The ``sample_size`` most recent sessions holding one of ``items`` (without ``exclude_row``)."""
        sample = int(self.params["sample_size"])
        starts = self.postings_indptr[items]
        # A prefix of sample + 1 per item: enough for the most recent ``sample`` overall, even if one is excluded.
        lengths = np.minimum(self.postings_indptr[items + 1] - starts, sample + 1)
        # Concatenated sorted runs: timsort ("stable") merges them in near-linear time, unlike np.unique.
        ranks = np.sort(self.postings[segment_positions(starts, lengths)], kind="stable")
        ranks = ranks[np.concatenate([[True], ranks[1:] != ranks[:-1]])] if len(ranks) else ranks  # newest first
        candidates = self.rank_rows[ranks].astype(np.int64)
        return np.asarray(candidates[candidates != exclude_row][:sample], dtype=np.int64)

    def _score_sequence(self, items: I64, exclude_row: int = -1) -> F32:
        items = items[-int(self.params["session_items"]) :]
        n_items, length = self.n_items, len(items)
        scores = np.zeros(n_items, dtype=np.float32)
        if length == 0:
            return scores
        candidates = self._neighbour_candidates(items, exclude_row)
        if len(candidates) == 0:
            return scores
        weights = position_weights(length, str(self.params["weighting"]))
        if self.params["idf_weighting"]:
            weights = weights * self.idf[items]
        candidates = np.sort(candidates)
        similarity = self._similarities(candidates, items, weights)
        chosen, sims = top_k(similarity.astype(np.float32), int(self.params["neighbors"]), similarity <= 0)
        if len(chosen) == 0:
            return scores
        # Steps back from the session's end of each session item: 1 for the newest.
        steps = np.zeros(n_items, dtype=np.int64)
        steps[items] = length - np.arange(length)
        chosen_items, chosen_owner = self.sequences.gather(candidates[chosen])
        shared = steps[chosen_items]
        nearest = np.full(len(chosen), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(nearest, chosen_owner[shared > 0], shared[shared > 0])
        votes = sims * distance_weights(nearest, str(self.params["score_weighting"]))
        weights_in_neighbor = votes[chosen_owner]
        window = float(self.params["neighbor_window"])
        if window > 0:
            # Items near the shared item in the neighbour's own path vote more: exp(-|Δposition| / window).
            starts = np.concatenate([[0], np.cumsum(np.bincount(chosen_owner, minlength=len(chosen)))[:-1]])
            position = np.arange(len(chosen_items)) - starts[chosen_owner]
            anchor = np.zeros(len(chosen), dtype=np.int64)
            is_anchor = (shared > 0) & (shared == nearest[chosen_owner])
            anchor[chosen_owner[is_anchor]] = position[is_anchor]
            weights_in_neighbor = weights_in_neighbor * np.exp(-np.abs(position - anchor[chosen_owner]) / window)
        return np.bincount(chosen_items, weights=weights_in_neighbor, minlength=n_items).astype(np.float32)

    def _similarities(self, candidates: I64, items: I64, weights: F32) -> F32:
        """Σ of ``weights`` of the session ``items`` each (sorted) candidate holds.

        Short sessions: read the candidates' items. Long ones: one binary search per (candidate, item)
        pair in the sorted (row, item) keys, cheaper than reading every candidate's whole sequence.
        """
        lengths = np.diff(self.sequences.indptr)[candidates]
        if int(lengths.sum()) <= len(candidates) * len(items):
            in_session = np.zeros(self.n_items, dtype=np.float32)
            in_session[items] = weights
            member_items, owner = self.sequences.gather(candidates)
            return np.bincount(owner, weights=in_session[member_items], minlength=len(candidates)).astype(np.float32)
        by_item = np.argsort(items)  # ascending queries: searchsorted is far faster on them
        pairs = candidates[:, None] * self.n_items + items[by_item][None, :]
        keys = self._membership_keys()
        found = keys[np.minimum(np.searchsorted(keys, pairs.reshape(-1)), len(keys) - 1)].reshape(pairs.shape) == pairs
        return np.asarray(found.astype(np.float32) @ weights[by_item], dtype=np.float32)

    def _membership_keys(self) -> npt.NDArray[np.int64]:
        """row · n_items + item of every (training row, item) pair, sorted; derived once per loaded model."""
        if self._keys is None:
            keys: npt.NDArray[np.int64] = self.sequences.row_ids() * max(self.n_items, 1) + self.sequences.items
            self._keys = np.sort(keys)
        return self._keys

    def _statistics_arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {
            "postings/indptr": self.postings_indptr,
            "postings/ranks": self.postings,
            "recency/rows": self.rank_rows,
            "idf": self.idf,
        }

    def _load_statistics(self, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        self._keys = None
        self.postings_indptr = np.asarray(arrays["postings/indptr"], dtype=np.int64)
        self.postings = np.asarray(arrays["postings/ranks"], dtype=np.int32)
        self.rank_rows = np.asarray(arrays["recency/rows"], dtype=np.int32)
        self.idf = np.asarray(arrays["idf"], dtype=np.float32)
