"""Training rows (sessions or users) as time-ordered item sequences, shared by the session recipes.

A row's sequence is its items in the order of their latest event, each item once: a session is
read as the path a visitor took, and a repeated click moves the item to where it was last seen.
Stored as a CSR-like pair (``indptr``, ``items``) plus each row's newest event time, so it goes into
the ``.npz`` artifact as three plain arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from reco.models.base import Recommender
from reco.models.interactions import F32, F64, I32, I64, Interactions, segment_positions

# Position weightings of a sequence's items, by position i (1 = oldest) of n: the newest item counts most.
POSITION_WEIGHTINGS = ("same", "linear", "quadratic", "log")
# Weightings by distance d >= 1 (1 = adjacent / the newest item).
DISTANCE_WEIGHTINGS = ("same", "div", "linear", "quadratic")


def position_weights(n: int, weighting: str) -> F32:
    """Weights of positions 1..n of a sequence (oldest first); the last position weighs 1."""
    i = np.arange(1, n + 1, dtype=np.float64)
    if weighting == "linear":
        w = i / max(n, 1)
    elif weighting == "quadratic":
        w = (i / max(n, 1)) ** 2
    elif weighting == "log":
        w = 1.0 / np.log10(n - i + 10.0)  # 1 for the newest, slowly decaying further back
    else:
        w = np.ones(n)
    return w.astype(np.float32)


def distance_weights(distance: npt.ArrayLike, weighting: str) -> F32:
    """Weights of distances d >= 1: 1/d for ``div``, 1 - 0.1·(d - 1) (floored at 0) for ``linear``, …"""
    d = np.asarray(distance, dtype=np.float64)
    if weighting == "div":
        w = 1.0 / d
    elif weighting == "linear":
        w = np.maximum(1.0 - 0.1 * (d - 1.0), 0.0)
    elif weighting == "quadratic":
        w = 1.0 / (d * d)
    else:
        w = np.ones_like(d)
    return w.astype(np.float32)


@dataclass(frozen=True)
class Sequences:
    """Row ``r``'s items, oldest first, are ``items[indptr[r]:indptr[r + 1]]``; ``last_time[r]`` its newest event."""

    indptr: I64
    items: I32
    last_time: F64

    @classmethod
    def from_interactions(cls, interactions: Interactions) -> Sequences:
        users = interactions.users.astype(np.int64)
        items = interactions.items.astype(np.int64)
        order = np.lexsort((items, interactions.timestamps, users))
        users, items, times = users[order], items[order], interactions.timestamps[order]
        # Each (row, item) once, at its latest event: the first occurrence in the reversed order.
        keys = users * max(interactions.n_items, 1) + items
        _, first_reversed = np.unique(keys[::-1], return_index=True)
        keep = np.sort(len(keys) - 1 - first_reversed)
        counts = np.bincount(users[keep], minlength=interactions.n_users)
        indptr = np.zeros(interactions.n_users + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        last_time = np.full(interactions.n_users, -np.inf, dtype=np.float64)
        np.maximum.at(last_time, users, times)
        return cls(indptr, items[keep].astype(np.int32), last_time)

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def row(self, r: int) -> I32:
        return self.items[int(self.indptr[r]) : int(self.indptr[r + 1])]

    def lengths(self) -> I64:
        return np.diff(self.indptr)

    def row_ids(self) -> I64:
        return np.repeat(np.arange(self.n_rows, dtype=np.int64), self.lengths())

    def gather(self, rows: I64) -> tuple[I64, I64]:
        """The items of ``rows`` flattened, and for each the position in ``rows`` it came from."""
        starts, lengths = self.indptr[rows], np.diff(self.indptr)[rows]
        owner = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
        return self.items[segment_positions(starts, lengths)].astype(np.int64), owner

    def to_arrays(self, prefix: str = "sequences/") -> dict[str, npt.NDArray[Any]]:
        return {f"{prefix}indptr": self.indptr, f"{prefix}items": self.items, f"{prefix}last_time": self.last_time}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, npt.NDArray[Any]], prefix: str = "sequences/") -> Sequences:
        return cls(
            np.asarray(arrays[f"{prefix}indptr"], dtype=np.int64),
            np.asarray(arrays[f"{prefix}items"], dtype=np.int32),
            np.asarray(arrays[f"{prefix}last_time"], dtype=np.float64),
        )

    @classmethod
    def empty(cls) -> Sequences:
        return cls(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64))


class SessionRecommender(Recommender):
    """A recipe that reads histories as sequences: each training row keeps its sequence instead of a CSR.

    A known row is scored from its own sequence (``_score_sequence`` with the row excluded from what it
    learns from), a fresh history after it; histories are passed oldest first (``ORDERED_HISTORY``).
    """

    KEEPS_HISTORY: ClassVar[bool] = False
    ORDERED_HISTORY: ClassVar[bool] = True

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(params)
        self.sequences = Sequences.empty()

    def _fit(self, interactions: Interactions) -> None:
        self.sequences = Sequences.from_interactions(interactions)
        self._fit_sequences(interactions)

    def _fit_sequences(self, interactions: Interactions) -> None:
        """Statistics beyond the sequences themselves (``self.sequences`` is set)."""

    def training_history(self, user_row: int) -> tuple[I32, F32]:
        """The row's training sequence, oldest first: a fresh history goes after it."""
        past = self.sequences.row(user_row)
        return past, np.ones(len(past), dtype=np.float32)

    def _score_users(self, user_rows: I64) -> F32:
        # One row at a time: evaluation batches only; a request scores one row.
        out = np.zeros((len(user_rows), self.n_items), dtype=np.float32)
        for position, row in enumerate(user_rows.tolist()):
            out[position] = self._score_sequence(self.sequences.row(row).astype(np.int64), exclude_row=row)
        return out

    def _score_history(self, items: I64, weights: F32) -> F32:
        return self._score_sequence(items)

    def _score_sequence(self, items: I64, exclude_row: int = -1) -> F32:
        """Scores of every item after the sequence ``items`` (oldest first, known, each once)."""
        raise NotImplementedError

    def _to_arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {**self.sequences.to_arrays(), **self._statistics_arrays()}

    def _statistics_arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {}

    def _from_arrays(self, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        self.sequences = Sequences.from_arrays(arrays)
        self._load_statistics(arrays)

    def _load_statistics(self, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        """Reads what ``_statistics_arrays`` wrote."""
