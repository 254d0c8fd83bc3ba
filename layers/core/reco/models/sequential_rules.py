"""Sequential rules (SR) of Ludewig & Jannach, "Evaluation of session-based recommendation algorithms" (2018).

A rule a → b is learnt whenever b follows a in a training session at most ``max_distance`` steps
later; each occurrence adds w(d) for the distance d (1 / d for ``div``). Only the strongest
``rules_per_item`` rules of each item are kept, as a CSR (item → following items, weights) in the
artifact. The next items after a session are the rules of its newest item; its earlier items add
their rules damped by ``history_decay`` per step back (0: the newest item alone, as in the paper).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from reco.models.interactions import F32, I32, I64, Interactions, segment_positions
from reco.models.sequences import DISTANCE_WEIGHTINGS, SessionRecommender, distance_weights


class SequentialRules(SessionRecommender):
    """score(j) = Σ_k history_decay^k · rule(item_{-1-k} → j), over the newest item and (optionally) earlier ones."""

    recipe: ClassVar[str] = "sequential_rules"
    DEFAULT_PARAMS: ClassVar[dict[str, Any]] = {
        "max_distance": 10,
        "weighting": "div",
        "rules_per_item": 50,
        "history_decay": 0.0,
    }
    PARAM_RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "max_distance": (1, 100),
        "rules_per_item": (1, 5_000),
        "history_decay": (0.0, 1.0),
    }
    PARAM_CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"weighting": DISTANCE_WEIGHTINGS}
    SEARCH_SPACE: ClassVar[dict[str, tuple[Any, ...]]] = {
        "max_distance": (3, 10, 25),
        "weighting": ("div", "linear", "quadratic"),
        "rules_per_item": (50, 200),
        "history_decay": (0.0, 0.3, 0.6),
    }
    # Earlier items of a session folded into the scores when ``history_decay`` > 0.
    MAX_HISTORY_ITEMS = 20

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(params)
        self.rules_indptr: npt.NDArray[np.int64] = np.zeros(1, dtype=np.int64)
        self.rules_items: I32 = np.zeros(0, dtype=np.int32)
        self.rules_weights: F32 = np.zeros(0, dtype=np.float32)

    def _fit_sequences(self, interactions: Interactions) -> None:
        sequences, n = self.sequences, max(self.n_items, 1)
        rows, items = sequences.row_ids(), sequences.items.astype(np.int64)
        keys: list[npt.NDArray[np.int64]] = []
        values: list[F32] = []
        for distance in range(1, int(self.params["max_distance"]) + 1):  # a loop over distances, not data
            same_row = rows[distance:] == rows[:-distance]
            if not same_row.any():
                break
            keys.append(items[:-distance][same_row] * n + items[distance:][same_row])
            values.append(np.full(int(same_row.sum()), distance_weights([distance], str(self.params["weighting"]))[0]))
        all_keys = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
        all_values = np.concatenate(values) if values else np.zeros(0, dtype=np.float32)
        unique, inverse = np.unique(all_keys, return_inverse=True)
        weights = np.bincount(inverse.reshape(-1), weights=all_values, minlength=len(unique))
        sources, targets = unique // n, unique % n
        # The strongest rules of each source item (ties by target, for determinism).
        order = np.lexsort((targets, -weights, sources))
        sources, targets, weights = sources[order], targets[order], weights[order]
        counts = np.bincount(sources, minlength=self.n_items)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        keep = np.arange(len(sources)) - starts[sources] < int(self.params["rules_per_item"])
        kept = np.bincount(sources[keep], minlength=self.n_items)
        self.rules_indptr = np.concatenate([[0], np.cumsum(kept)]).astype(np.int64)
        self.rules_items = targets[keep].astype(np.int32)
        self.rules_weights = weights[keep].astype(np.float32)

    def _score_sequence(self, items: I64, exclude_row: int = -1) -> F32:
        # A training row's own rules include its own transitions; with the counts summed over every
        # session, excluding one row would need per-row counts, so the row is scored as it stands.
        decay = float(self.params["history_decay"])
        recent = items[::-1][: self.MAX_HISTORY_ITEMS if decay > 0 else 1]
        if len(recent) == 0:
            return np.zeros(self.n_items, dtype=np.float32)
        factors = decay ** np.arange(len(recent), dtype=np.float64)
        starts, stops = self.rules_indptr[recent], self.rules_indptr[recent + 1]
        lengths = stops - starts
        owner = np.repeat(np.arange(len(recent)), lengths)
        positions = segment_positions(starts, lengths)
        weights = self.rules_weights[positions] * factors[owner]
        return np.bincount(self.rules_items[positions], weights=weights, minlength=self.n_items).astype(np.float32)

    def _statistics_arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {"rules/indptr": self.rules_indptr, "rules/items": self.rules_items, "rules/weights": self.rules_weights}

    def _load_statistics(self, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        self.rules_indptr = np.asarray(arrays["rules/indptr"], dtype=np.int64)
        self.rules_items = np.asarray(arrays["rules/items"], dtype=np.int32)
        self.rules_weights = np.asarray(arrays["rules/weights"], dtype=np.float32)
