"""Cold start by user properties: an unknown user gets what users with the same property values liked.

"Unknown" is what the scoring calls a fallback: a user (or session) the model was not trained on,
with no recent events. The requester's properties (the stored user's, with the body's
``user_properties`` on top) select the trained users holding every one of those values (a list
value: any of them; an array property: any element), with the same vectorised filters items use.
Items score by how many of those users interacted with them, ties (and items none of them touched)
by all-time popularity, so the list is never shorter than the catalog allows. Properties no trained
user carries, and empty values ("" or null), are ignored. No matching user: trending, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from reco.errors import WrongDataType, WrongOpUse
from reco.models.artifact import ModelArtifact
from reco.models.segments import UserSegments
from reco.recommendations.item_properties import match_rule, popularity_share
from reco.recommendations.scores import Scores
from reco.scenarios.filters import filter_mask

FALLBACK = "popular_with_similar_users"
MAX_PROPERTIES = 20  # a profile's properties considered, in the order sent


def similar_users_scores(artifact: ModelArtifact, properties: Mapping[str, Any], reason: str) -> Scores | None:
    """Scores from the users sharing ``properties``, or None when no trained user shares them."""
    segments = UserSegments(artifact.user_segments)
    if not segments.n_users or not properties:
        return None
    known = set(segments.columns.names())
    chosen = np.ones(segments.n_users, dtype=bool)
    used: list[str] = []
    for name, value in list(properties.items())[:MAX_PROPERTIES]:
        rule = match_rule(value)
        if rule is None or name not in known:
            continue
        try:
            chosen &= filter_mask(segments.columns, None, name, *rule)
        except (WrongDataType, WrongOpUse):
            continue  # a value of another type than the users' (a number for a text): no evidence either way
        used.append(f"{name}={value!r}")
    if not used or not chosen.any():
        return None
    counts = segments.item_counts(chosen, len(artifact.item_ids)).astype(np.float64)
    values = (counts + popularity_share(artifact)).astype(np.float32)
    excluded = np.zeros(len(values), dtype=bool)
    n = int(chosen.sum())
    warning = f"{reason}: items most popular among the {n} users with {', '.join(used)} shown"
    return Scores(values, excluded, [warning], FALLBACK)
