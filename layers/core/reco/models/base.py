"""The interface every recipe implements, shaped like benfred/implicit's ``RecommenderBase``.

Rows are dense indices into the training id universes (see :class:`Interactions`). Scoring paths
are vectorised over items and users: the only Python loops allowed are over training iterations
or chunks. Subclasses implement ``_fit``, ``_score_users``, ``_score_history`` and the two array
hooks; the base class does input hygiene, candidate restriction, exclusion and top-N.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from reco.models.interactions import CSR, F32, I32, I64, Interactions
from reco.models.topk import top_k

History = tuple[npt.ArrayLike, npt.ArrayLike]
Arrays = dict[str, npt.NDArray[Any]]


class Recommender(ABC):
    """A trained model over ``n_items`` items; users seen at fit time are addressed by row."""

    recipe: ClassVar[str]
    DEFAULT_PARAMS: ClassVar[dict[str, Any]]
    # Inclusive (low, high) bounds of numeric params, checked by ``recipes.resolve_params``.
    PARAM_RANGES: ClassVar[dict[str, tuple[float, float]]] = {}
    # Allowed values of string params, checked by ``recipes.resolve_params``.
    PARAM_CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {}
    # Values automatic tuning tries per param (``reco.training.tuning``); params not named keep their default.
    SEARCH_SPACE: ClassVar[dict[str, tuple[Any, ...]]] = {}
    # Whether the order of a history matters (session recipes): histories are then passed oldest first and
    # scored as sequences (see ``clean_sequence``) rather than as sets.
    ORDERED_HISTORY: ClassVar[bool] = False
    # Whether the model keeps each training user's history (needed to score known users and to
    # combine a stored history with a fresh one); popularity recipes do not.
    KEEPS_HISTORY: ClassVar[bool] = True

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        self.params: dict[str, Any] = {**self.DEFAULT_PARAMS, **(params or {})}
        self.n_items = 0
        self.n_users = 0
        self.user_items: CSR | None = None

    # --- training -------------------------------------------------------------------------

    def fit(self, interactions: Interactions) -> Self:
        self.n_items = interactions.n_items
        self.n_users = interactions.n_users
        self.user_items = interactions.csr() if self.KEEPS_HISTORY else None
        self._fit(interactions)
        return self

    @abstractmethod
    def _fit(self, interactions: Interactions) -> None: ...

    # --- scoring --------------------------------------------------------------------------

    def score_users(self, user_rows: npt.ArrayLike) -> F32:
        """Scores of every item for users seen at fit time: float32 (len(user_rows), n_items)."""
        rows = np.asarray(user_rows, dtype=np.int64).reshape(-1)
        if len(rows) and (rows.min() < 0 or rows.max() >= self.n_users):
            raise IndexError(f"user rows must be in [0, {self.n_users})")
        return np.asarray(self._score_users(rows), dtype=np.float32)

    def score_history(self, items: npt.ArrayLike, weights: npt.ArrayLike) -> F32:
        """Scores of every item for a history folded in at request time: float32 (n_items,).

        Unknown items (rows outside the catalog, such as -1 from an id lookup) are dropped and
        repeated items have their weights summed. Histories are passed oldest first: recipes with
        ``ORDERED_HISTORY`` score them as sequences (``clean_sequence``), the others as sets.
        """
        clean = self.clean_sequence if self.ORDERED_HISTORY else self.clean_history
        rows, cleaned = clean(items, weights)
        return np.asarray(self._score_history(rows, cleaned), dtype=np.float32).reshape(self.n_items)

    @abstractmethod
    def _score_users(self, user_rows: I64) -> F32: ...

    @abstractmethod
    def _score_history(self, items: I64, weights: F32) -> F32: ...

    def _item_scores(self, item_row: int) -> F32:
        """How similar every item is to ``item_row``; by default a one-item history."""
        return self.score_history(np.array([item_row]), np.ones(1, dtype=np.float32))

    def clean_history(self, items: npt.ArrayLike, weights: npt.ArrayLike) -> tuple[I64, F32]:
        rows = np.asarray(items, dtype=np.int64).reshape(-1)
        w = np.broadcast_to(np.asarray(weights, dtype=np.float32).reshape(-1), rows.shape)
        known = (rows >= 0) & (rows < self.n_items)
        unique, inverse = np.unique(rows[known], return_inverse=True)
        summed = np.bincount(inverse.reshape(-1), weights=w[known], minlength=len(unique))
        return unique.astype(np.int64), summed.astype(np.float32)

    def clean_sequence(self, items: npt.ArrayLike, weights: npt.ArrayLike) -> tuple[I64, F32]:
        """A history kept in its order (oldest first): unknown rows and weightless events dropped, and an item
        seen more than once kept at its latest position with its weights summed."""
        rows = np.asarray(items, dtype=np.int64).reshape(-1)
        w = np.broadcast_to(np.asarray(weights, dtype=np.float32).reshape(-1), rows.shape)
        known = (rows >= 0) & (rows < self.n_items) & (w > 0)
        rows, w = rows[known], w[known]
        unique, reversed_first, inverse = np.unique(rows[::-1], return_index=True, return_inverse=True)
        summed = np.bincount(inverse.reshape(-1), weights=w[::-1], minlength=len(unique))
        order = np.argsort(len(rows) - 1 - reversed_first, kind="stable")  # by each item's latest position
        return unique[order].astype(np.int64), summed[order].astype(np.float32)

    # --- ranking --------------------------------------------------------------------------

    def recommend(
        self,
        user_row: int | None,
        N: int,
        *,
        history: History | None = None,
        candidates: npt.ArrayLike | None = None,
        exclude: npt.ArrayLike | None = None,
    ) -> tuple[I64, F32]:
        """The ``N`` best item rows and their scores, best first.

        Scores come from :meth:`user_scores`. ``candidates`` restricts the answer (unknown rows and
        duplicates dropped, ties keep candidate order); ``exclude`` rows are never returned.
        Already-seen items are not excluded implicitly: pass them in ``exclude`` (for a known user,
        e.g. ``model.user_items.row(u)[0]``).
        """
        if candidates is None:
            return self.rank(self.user_scores(user_row, history), N, exclude=exclude)
        rows = self._candidate_rows(candidates)
        banned = np.zeros(len(rows), dtype=bool)
        if exclude is not None:
            banned = np.isin(rows, np.asarray(exclude, dtype=np.int64).reshape(-1))
        positions, values = top_k(self.candidate_scores(user_row, history, rows), N, banned)
        return rows[positions], values

    def user_scores(self, user_row: int | None, history: History | None = None) -> F32:
        """Scores of every item (n_items,) for a user row and/or a fresh history.

        A known ``user_row`` alone is scored from the model's user state. With a ``history``
        (items, weights), that history, plus the user's training history when the row is known,
        is folded in. With neither, the model's answer to an empty history (zeros for the
        personalised recipes: callers fall back to the artifact's popularity or trending).
        """
        if history is None and user_row is not None:
            return self.score_users(np.array([user_row])).reshape(self.n_items)
        return self.score_history(*self.combined_history(user_row, history))

    def combined_history(self, user_row: int | None, history: History | None) -> tuple[I64, F32]:
        """``history`` with the user's training history in front, when the row is known."""
        items, weights = history if history is not None else (np.empty(0, np.int64), np.empty(0, np.float32))
        items_arr = np.asarray(items, dtype=np.int64).reshape(-1)
        weights_arr = np.broadcast_to(np.asarray(weights, dtype=np.float32).reshape(-1), items_arr.shape)
        past = self.training_history(user_row) if user_row is not None and 0 <= user_row < self.n_users else None
        if past is not None:
            items_arr = np.concatenate([past[0].astype(np.int64), items_arr])
            weights_arr = np.concatenate([past[1], weights_arr])
        return items_arr, weights_arr

    def training_history(self, user_row: int) -> tuple[I32, F32] | None:
        """A known row's training history (items, weights); None when the model keeps none."""
        return None if self.user_items is None else self.user_items.row(user_row)

    def candidate_scores(self, user_row: int | None, history: History | None, rows: npt.ArrayLike) -> F32:
        """``user_scores(user_row, history)[rows]``: a request's candidates only (rows in the catalog).

        Recipes whose scores factor per item (ALS, EASE) override it to touch only those rows: a
        1,000-candidate request then costs the same with 10 k or 1 M items in the catalog.
        """
        return self.user_scores(user_row, history)[np.asarray(rows, dtype=np.int64)]

    def contributions(
        self, user_row: int | None, history: History | None, rows: npt.ArrayLike
    ) -> tuple[I64, F32] | None:
        """Each history item's share of each row's score: (history item rows (h,), float32 matrix (h, len(rows))).

        The history is the one scoring uses: ``history`` with the user's training history in front when
        ``user_row`` is known (``combined_history`` then ``clean_history``: unknown rows dropped, repeats summed).
        Column ``j`` sums to the score of ``rows[j]`` (see each recipe for which score). ``rows`` must be in the
        catalog (IndexError otherwise); repeats are allowed. None for recipes whose scores are not a sum over
        history items (popularity, trending).
        """
        columns = np.asarray(rows, dtype=np.int64).reshape(-1)
        if len(columns) and (columns.min() < 0 or columns.max() >= self.n_items):
            raise IndexError(f"rows must be in [0, {self.n_items})")
        items, weights = self.clean_history(*self.combined_history(user_row, history))
        matrix = self._contributions(items, weights, columns)
        if matrix is None:
            return None
        return items, np.asarray(matrix, dtype=np.float32).reshape(len(items), len(columns))

    def _contributions(self, items: I64, weights: F32, rows: I64) -> F32 | None:
        """The (len(items), len(rows)) contribution matrix of a cleaned history; None if scores are no such sum."""
        return None

    def similar_scores(self, item_row: int) -> F32:
        """How similar every item is to ``item_row`` (n_items,): item-to-item recommendations."""
        if not 0 <= item_row < self.n_items:
            raise IndexError(f"item row must be in [0, {self.n_items})")
        return np.asarray(self._item_scores(item_row), dtype=np.float32).reshape(self.n_items)

    def similar_items(self, item_row: int, N: int, candidates: npt.ArrayLike | None = None) -> tuple[I64, F32]:
        """The ``N`` items most similar to ``item_row`` (never the item itself)."""
        if not 0 <= item_row < self.n_items:
            raise IndexError(f"item row must be in [0, {self.n_items})")
        return self.rank(self._item_scores(item_row), N, candidates=candidates, exclude=np.array([item_row]))

    def _candidate_rows(self, candidates: npt.ArrayLike) -> I64:
        """Candidate rows in the catalog, each once, in their first order."""
        cand = np.asarray(candidates, dtype=np.int64).reshape(-1)
        cand = cand[(cand >= 0) & (cand < self.n_items)]
        _, first = np.unique(cand, return_index=True)
        return cand[np.sort(first)]

    def rank(
        self, scores: F32, N: int, *, candidates: npt.ArrayLike | None = None, exclude: npt.ArrayLike | None = None
    ) -> tuple[I64, F32]:
        """Top-N of a full score vector, restricted to ``candidates`` and without ``exclude``."""
        banned = np.zeros(self.n_items, dtype=bool)
        if exclude is not None:
            rows = np.asarray(exclude, dtype=np.int64).reshape(-1)
            banned[rows[(rows >= 0) & (rows < self.n_items)]] = True
        if candidates is None:
            return top_k(scores, N, banned)
        cand = self._candidate_rows(candidates)
        positions, values = top_k(scores[cand], N, banned[cand])
        return cand[positions], values

    # --- persistence ----------------------------------------------------------------------

    def to_arrays(self) -> Arrays:
        """Everything needed to serve the model, as plain numpy arrays (no pickles)."""
        arrays: Arrays = {
            "n_items": np.array(self.n_items, dtype=np.int64),
            "n_users": np.array(self.n_users, dtype=np.int64),
        }
        if self.user_items is not None:
            arrays["user_items/indptr"] = self.user_items.indptr
            arrays["user_items/indices"] = self.user_items.indices
            arrays["user_items/data"] = self.user_items.data
        arrays.update(self._to_arrays())
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, npt.NDArray[Any]], params: Mapping[str, Any]) -> Self:
        model = cls(params)
        model.n_items = int(arrays["n_items"])
        model.n_users = int(arrays["n_users"])
        if "user_items/indptr" in arrays:
            indptr = np.asarray(arrays["user_items/indptr"], dtype=np.int64)
            model.user_items = CSR(
                indptr,
                np.asarray(arrays["user_items/indices"], dtype=np.int32),
                np.asarray(arrays["user_items/data"], dtype=np.float32),
                (len(indptr) - 1, model.n_items),
            )
        model._from_arrays(arrays)
        return model

    @abstractmethod
    def _to_arrays(self) -> Arrays: ...

    @abstractmethod
    def _from_arrays(self, arrays: Mapping[str, npt.NDArray[Any]]) -> None: ...
