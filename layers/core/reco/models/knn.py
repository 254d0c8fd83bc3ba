"""Item-based k-nearest neighbours: cosine similarity between the items' user columns.

Similarities are computed a block of items at a time (``CSR.gram``), so peak memory is one
n_items x block float32 matrix plus a dense chunk of users; the flops are those of a dense XᵀX, which
keeps the recipe practical up to roughly 20,000 items on a Lambda. Only the top ``neighbors`` of
each item are kept, as dense (n_items x K) index and value arrays: the artifact stays O(n_items · K)
and scoring is a scatter-add of the history items' neighbour rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from reco.models.base import Arrays, Recommender
from reco.models.interactions import DENSE_CHUNK_CELLS, F32, I32, I64, Interactions


class ItemKNN(Recommender):
    """score(j) = Σ_{i in history} w_i · sim(i, j), over the top ``neighbors`` of each i.

    sim(i, j) = ⟨x_i, x_j⟩ / (‖x_i‖·‖x_j‖ + shrink), where x_i is item i's column of the user x item
    matrix (binarised when ``binary``). ``shrink`` damps similarities resting on few co-occurrences.
    """

    recipe: ClassVar[str] = "item_knn"
    DEFAULT_PARAMS: ClassVar[dict[str, Any]] = {"neighbors": 100, "shrink": 0.0, "binary": True}
    PARAM_RANGES: ClassVar[dict[str, tuple[float, float]]] = {"neighbors": (1, 10_000), "shrink": (0.0, 1e6)}
    SEARCH_SPACE: ClassVar[dict[str, tuple[Any, ...]]] = {
        "neighbors": (20, 50, 100, 200, 400),
        "shrink": (0.0, 10.0, 50.0, 200.0),
    }

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(params)
        self.neighbors: I32 = np.zeros((0, 0), dtype=np.int32)
        self.similarities: F32 = np.zeros((0, 0), dtype=np.float32)

    def _fit(self, interactions: Interactions) -> None:
        x = interactions.csr().binarized() if self.params["binary"] else interactions.csr()
        n = self.n_items
        k = max(0, min(int(self.params["neighbors"]), n - 1))
        shrink = float(self.params["shrink"])
        norms = np.sqrt(np.bincount(x.indices, weights=x.data.astype(np.float64) ** 2, minlength=n)).astype(np.float32)
        self.neighbors = np.zeros((n, k), dtype=np.int32)
        self.similarities = np.zeros((n, k), dtype=np.float32)
        if k == 0:
            return
        step = max(1, min(n, DENSE_CHUNK_CELLS // max(n, 1)))
        for start in range(0, n, step):
            stop = min(n, start + step)
            block = x.gram(start, stop).T  # (items in block) x n
            denominator = norms[start:stop, None] * norms[None, :] + shrink
            sims = np.divide(block, denominator, out=np.zeros_like(block), where=denominator > 0)
            sims[np.arange(stop - start), np.arange(start, stop)] = 0.0  # an item is not its own neighbour
            part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            values = np.take_along_axis(sims, part, axis=1)
            order = np.argsort(-values, axis=1, kind="stable")
            self.neighbors[start:stop] = np.take_along_axis(part, order, axis=1)
            self.similarities[start:stop] = np.take_along_axis(values, order, axis=1)

    def _weights(self, weights: F32) -> F32:
        return np.ones_like(weights) if self.params["binary"] else weights

    def _score_users(self, user_rows: I64) -> F32:
        assert self.user_items is not None
        sub = self.user_items.take_rows(user_rows)
        n = self.n_items
        targets = sub.row_ids()[:, None] * n + self.neighbors[sub.indices]
        contributions = self.similarities[sub.indices] * self._weights(sub.data)[:, None]
        sums = np.bincount(targets.reshape(-1), weights=contributions.reshape(-1), minlength=len(user_rows) * n)
        return sums.reshape(len(user_rows), n).astype(np.float32)

    def _score_history(self, items: I64, weights: F32) -> F32:
        contributions = self.similarities[items] * self._weights(weights)[:, None]
        sums = np.bincount(self.neighbors[items].reshape(-1), weights=contributions.reshape(-1), minlength=self.n_items)
        return sums.astype(np.float32)

    def _contributions(self, items: I64, weights: F32, rows: I64) -> F32:
        """w'_i · sim(item_i, row_j) when row_j is among item_i's kept neighbours, else 0: the terms of the scores.

        Each history item's (K,) neighbour list is matched against the unique requested rows with one
        ``searchsorted``; the hits are scattered into an (h, unique rows) matrix then spread to ``rows``.
        """
        unique, inverse = np.unique(rows, return_inverse=True)
        neighbors = self.neighbors[items].astype(np.int64)  # (h, K)
        values = self.similarities[items] * self._weights(weights)[:, None]
        positions = np.minimum(np.searchsorted(unique, neighbors), max(len(unique) - 1, 0))
        hit = unique[positions] == neighbors if len(unique) else np.zeros(neighbors.shape, dtype=bool)
        cells = np.arange(len(items), dtype=np.int64)[:, None] * len(unique) + positions
        sums = np.bincount(cells[hit], weights=values[hit].astype(np.float64), minlength=len(items) * len(unique))
        return sums.reshape(len(items), len(unique))[:, inverse.reshape(-1)].astype(np.float32)

    def _to_arrays(self) -> Arrays:
        return {"neighbors": self.neighbors, "similarities": self.similarities}

    def _from_arrays(self, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        self.neighbors = np.asarray(arrays["neighbors"], dtype=np.int32)
        self.similarities = np.asarray(arrays["similarities"], dtype=np.float32)
