"""Scores: one value per catalog item for a request, the rows never to return, and where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reco.models.interactions import F32, Bools
from reco.serving.scoring import ScoreSource


@dataclass(frozen=True)
class Scores:
    """One score per catalog item, the rows never to return, and where the scores came from."""

    values: F32
    excluded: Bools
    warnings: list[str] = field(default_factory=list)
    fallback: str | None = None
    source: ScoreSource | None = None  # None: not a profile or session (an item's neighbours, a template)


def standardised(values: F32) -> F32:
    """``values`` as z-scores over their finite entries (0 when they are all equal): scales become comparable."""
    out = np.asarray(values, dtype=np.float32).copy()
    finite = np.isfinite(out)
    if not finite.any():
        return out
    kept = out[finite].astype(np.float64)
    spread = float(kept.std())
    out[finite] = ((kept - kept.mean()) / spread if spread > 0 else np.zeros_like(kept)).astype(np.float32)
    return out
