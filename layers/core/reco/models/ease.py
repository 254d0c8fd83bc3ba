"""EASE (Steck 2019): a closed-form item x item linear model with a zero diagonal.

B = argmin ‖X - XB‖² + λ‖B‖² subject to diag(B) = 0 has the closed form P = (XᵀX + λI)⁻¹,
B = -P / diag(P) (column-wise), diag(B) = 0. Training is one Gram matrix and one inversion; the
catch is that B is dense n_items², so catalogs above ``max_items`` are refused up front rather
than running a Lambda out of memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from reco.models.base import Arrays, History, Recommender
from reco.models.interactions import F32, I64, Interactions

# Up to this many items the inversion runs in float64 (8 bytes x n² per matrix); above it float32.
FLOAT64_MAX_ITEMS = 8_192


class EASE(Recommender):
    """score = history · B; ``l2`` is the λ of the closed form (larger = smoother, more popular)."""

    recipe: ClassVar[str] = "ease"
    DEFAULT_PARAMS: ClassVar[dict[str, Any]] = {"l2": 500.0, "binary": True, "max_items": 8_000}
    PARAM_RANGES: ClassVar[dict[str, tuple[float, float]]] = {"l2": (1e-6, 1e9), "max_items": (1, 100_000)}
    SEARCH_SPACE: ClassVar[dict[str, tuple[Any, ...]]] = {"l2": (50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0)}

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(params)
        self.weights: F32 = np.zeros((0, 0), dtype=np.float32)

    def _fit(self, interactions: Interactions) -> None:
        n, limit = self.n_items, int(self.params["max_items"])
        if n > limit:
            raise ValueError(
                f"ease needs a dense {n} x {n} item matrix; catalogs above max_items={limit} items are refused "
                "(use als or item_knn, or raise max_items if the training function has the memory)"
            )
        x = interactions.csr().binarized() if self.params["binary"] else interactions.csr()
        gram: npt.NDArray[np.floating[Any]] = x.gram()
        if n <= FLOAT64_MAX_ITEMS:
            gram = gram.astype(np.float64)
        gram[np.diag_indices(n)] += float(self.params["l2"])
        precision = np.linalg.inv(gram)
        del gram
        weights = precision / (-np.diag(precision))[None, :]
        weights[np.diag_indices(n)] = 0.0
        self.weights = weights.astype(np.float32, copy=False)

    def _history_weights(self, weights: F32) -> F32:
        return np.ones_like(weights) if self.params["binary"] else weights

    def _score_users(self, user_rows: I64) -> F32:
        assert self.user_items is not None
        sub = self.user_items.take_rows(user_rows)
        if self.params["binary"]:
            sub = sub.binarized()
        return sub.dense_rows(0, len(user_rows)) @ self.weights

    def _score_history(self, items: I64, weights: F32) -> F32:
        return self._history_weights(weights) @ self.weights[items]

    def candidate_scores(self, user_row: int | None, history: History | None, rows: npt.ArrayLike) -> F32:
        items, weights = self.clean_history(*self.combined_history(user_row, history))
        columns = np.asarray(rows, dtype=np.int64).reshape(-1)
        return np.asarray(self._history_weights(weights) @ self.weights[np.ix_(items, columns)], dtype=np.float32)

    def _contributions(self, items: I64, weights: F32, rows: I64) -> F32:
        """w'_i · B[item_i, row_j]: the terms of ``candidate_scores`` (w' = 1 when ``binary``), summing to it."""
        return np.asarray(self._history_weights(weights)[:, None] * self.weights[np.ix_(items, rows)], dtype=np.float32)

    def _to_arrays(self) -> Arrays:
        return {"weights": self.weights}

    def _from_arrays(self, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        self.weights = np.asarray(arrays["weights"], dtype=np.float32)
