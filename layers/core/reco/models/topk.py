"""Top-k selection in O(n) with ``np.argpartition``, shared by every recipe and the evaluation."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from reco.models.interactions import F32, I64, Bools


def top_k(scores: npt.ArrayLike, k: int, mask: Bools | None = None) -> tuple[I64, F32]:
    """The ``k`` best positions of ``scores`` and their scores, best first.

    ``mask`` marks excluded positions (True = never returned). NaN and -inf scores are treated as
    excluded too, so the answer may hold fewer than ``k`` items. Equal scores are ordered by
    position, also at the cut-off, so results are deterministic whatever argpartition does.
    """
    values = np.asarray(scores, dtype=np.float32).reshape(-1)
    valid = ~np.isnan(values) & (values != -np.inf)
    if mask is not None:
        valid &= ~np.asarray(mask, dtype=bool)
    positions = np.flatnonzero(valid)
    kept = values[positions]
    if k <= 0 or len(positions) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    if k < len(positions):
        cut = kept[np.argpartition(-kept, k - 1)[k - 1]]
        above = np.flatnonzero(kept > cut)
        ties = np.flatnonzero(kept == cut)[: k - len(above)]
        chosen = np.concatenate([above, ties])
        positions, kept = positions[chosen], kept[chosen]
    order = np.lexsort((positions, -kept))
    return positions[order].astype(np.int64), kept[order]


def top_k_rows(scores: F32, k: int) -> I64:
    """Column positions of the ``k`` best scores of every row, best first (for batch evaluation).

    Rows are independent; ties are broken arbitrarily. Excluded cells should hold -inf.
    """
    k = min(k, scores.shape[1])
    if k == 0:
        return np.empty((scores.shape[0], 0), dtype=np.int64)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1).astype(np.int64)
