"""``*_w_ctx_items``: the request's context items (e.g. a cart) shape a profile's or a session's scores.

The context counts as a second history: the model scores every item for it (item-to-items for a
set, in the recipe's own terms), and both score vectors are blended as z-scores with equal weight,
so neither scale dominates. Context items themselves are never returned (they are in the cart).
Ids the serving model does not know are skipped with a warning.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reco.models.artifact import ModelArtifact
from reco.recommendations.scores import Scores, standardised

CONTEXT_TYPES = frozenset({"profile_to_items_w_ctx_items", "session_to_items_w_ctx_items"})
CONTEXT_WEIGHT = 1.0  # of the context's z-scores, against 1.0 for the profile's or session's


def with_context_items(artifact: ModelArtifact, scores: Scores, item_ids: Sequence[str]) -> Scores:
    """``scores`` with the context items' similarity blended in and the context items excluded."""
    if not item_ids:
        return scores
    rows = artifact.item_rows(list(item_ids))
    known = rows[rows >= 0]
    unknown = [item for item, row in zip(item_ids, rows.tolist(), strict=True) if row < 0]
    warnings = list(scores.warnings)
    if unknown:
        shown = ", ".join(f"'{item}'" for item in unknown[:5]) + (" …" if len(unknown) > 5 else "")
        warnings.append(f"context items unknown to the serving model were skipped: {shown}")
    excluded = scores.excluded.copy()
    excluded[known] = True
    if not len(known):
        return Scores(scores.values, excluded, warnings, scores.fallback, scores.source)
    similarity = artifact.model.user_scores(None, (known, np.ones(len(known), dtype=np.float32)))
    blended = standardised(scores.values) + CONTEXT_WEIGHT * standardised(similarity)
    return Scores(blended.astype(np.float32), excluded, warnings, scores.fallback, scores.source)
