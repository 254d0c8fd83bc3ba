"""One score per catalog item for a request: the user's model state, fresh events folded in, or trending."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from reco.event_weights import USER_PREFIX, event_weight
from reco.models.artifact import ModelArtifact
from reco.records import Event


@dataclass(frozen=True)
class ScoreSource:
    """Where a request's scores came from; ``fallback`` is set when nothing personal was known."""

    personalised_by: str  # "user", "user+recent_events", "recent_events" or "none"
    fallback: str | None = None
    reason: str | None = None
    # What the scores were computed from, for explanations (``Recommender.contributions``).
    user_row: int | None = field(default=None, compare=False)
    history: tuple[np.ndarray, np.ndarray] | None = field(default=None, compare=False, repr=False)


def score_candidates(
    artifact: ModelArtifact, user_id: str | None, events: Sequence[Event], rows: np.ndarray | None
) -> tuple[np.ndarray, ScoreSource]:
    """Scores (float32) of the item ``rows`` (all in the artifact; None: every item), and how they were obtained.

    - a user the model was trained on: their model state, plus events newer than the training data
      folded in (so the very next request reflects a click);
    - a session, an anonymous or a new user with recent events: those events folded in;
    - nobody known: the artifact's trending scores.
    Only the candidates' rows are scored where the recipe allows (ALS, EASE): see
    ``Recommender.candidate_scores``.
    """
    user_row = artifact.user_row(USER_PREFIX + user_id) if user_id is not None else None
    data_until = float(artifact.metadata.get("data_until", 0.0))
    # Oldest first: session recipes read the history as a sequence (the newest click counts most).
    fresh = sorted(
        (e for e in events if user_row is None or e.timestamp.timestamp() > data_until), key=lambda e: e.timestamp
    )
    weights_table = artifact.metadata.get("event_weights", {})
    weights = np.fromiter((event_weight(e.type, e.value, weights_table) for e in fresh), np.float32, len(fresh))
    items = artifact.item_rows([e.item_id for e in fresh])
    usable = (items >= 0) & (weights > 0)
    history = (items[usable], weights[usable]) if usable.any() else None
    if user_row is not None:
        source = ScoreSource("user" if history is None else "user+recent_events", user_row=user_row, history=history)
        return _scores(artifact, user_row, history, rows), source
    if history is not None:
        return _scores(artifact, None, history, rows), ScoreSource("recent_events", history=history)
    reason = "unknown user with no recent events" if user_id is not None else "session with no recent events"
    trending = artifact.trending if rows is None else artifact.trending[rows]
    return np.asarray(trending, dtype=np.float32), ScoreSource("none", fallback="trending", reason=reason)


def _scores(
    artifact: ModelArtifact,
    user_row: int | None,
    history: tuple[np.ndarray, np.ndarray] | None,
    rows: np.ndarray | None,
) -> np.ndarray:
    if rows is None:  # the whole catalog: one matrix-vector product, no gathered copy of the factors
        return artifact.model.user_scores(user_row, history)
    return artifact.model.candidate_scores(user_row, history, rows)
