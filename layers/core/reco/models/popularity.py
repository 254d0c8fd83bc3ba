"""Non-personalised baselines: all-time popularity and time-decayed (trending) popularity.

Both give every user and every history the same global scores; they are the cold-start answer
and the floor any personalised recipe has to beat.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from reco.models.base import Arrays, Recommender
from reco.models.interactions import F32, I64, Interactions

SECONDS_PER_DAY = 86_400.0


class Popularity(Recommender):
    """Sum of event weights per item."""

    recipe: ClassVar[str] = "popularity"
    DEFAULT_PARAMS: ClassVar[dict[str, Any]] = {}
    KEEPS_HISTORY: ClassVar[bool] = False

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(params)
        self.scores: F32 = np.zeros(0, dtype=np.float32)

    def _event_weights(self, interactions: Interactions) -> npt.NDArray[np.float64]:
        return interactions.weights.astype(np.float64)

    def _fit(self, interactions: Interactions) -> None:
        sums = np.bincount(interactions.items, weights=self._event_weights(interactions), minlength=self.n_items)
        self.scores = sums.astype(np.float32)

    def _score_users(self, user_rows: I64) -> F32:
        return np.broadcast_to(self.scores, (len(user_rows), self.n_items)).copy()

    def _score_history(self, items: I64, weights: F32) -> F32:
        return self.scores.copy()

    def _to_arrays(self) -> Arrays:
        return {"scores": self.scores}

    def _from_arrays(self, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        self.scores = np.asarray(arrays["scores"], dtype=np.float32)


class Trending(Popularity):
    """Popularity where each event counts ``0.5 ** (age_days / half_life_days)``.

    Ages are measured from the newest event in the data rather than from the wall clock, so a
    model trained on an old export still ranks what was trending at the end of that export.
    """

    recipe: ClassVar[str] = "trending"
    DEFAULT_PARAMS: ClassVar[dict[str, Any]] = {"half_life_days": 7.0}
    PARAM_RANGES: ClassVar[dict[str, tuple[float, float]]] = {"half_life_days": (0.001, 36_500.0)}

    def _event_weights(self, interactions: Interactions) -> npt.NDArray[np.float64]:
        if interactions.n_events == 0:
            return np.zeros(0, dtype=np.float64)
        age_days = (interactions.timestamps.max() - interactions.timestamps) / SECONDS_PER_DAY
        decay = np.power(0.5, age_days / float(self.params["half_life_days"]))
        return np.asarray(interactions.weights.astype(np.float64) * decay, dtype=np.float64)
