"""item_properties_to_items: items ranked by how many of the requested property values they carry.

A category page sends ``{"genre": "jazz"}``; a "more like this spec" block sends several values.
Each property is one vectorised filter mask (a scalar value is ``eq``, a list is ``in``, any
element of an array property counts); an item's score is the number of properties it matches,
ties broken by all-time popularity. Items matching none are never returned. Properties the
serving model's items do not have, or values that cannot fit them, are skipped with a warning
(a page still renders); when nothing matches at all, popular items are shown, flagged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from reco.errors import WrongDataType, WrongOpUse, WrongParameter
from reco.models.artifact import ModelArtifact
from reco.recommendations.scores import Scores
from reco.scenarios.filters import filter_mask

RECO_TYPE = "item_properties_to_items"
MAX_PROPERTIES = 20
FALLBACK = "popularity"


def match_rule(value: Any) -> tuple[str, Any] | None:
    """(op, value) matching ``value``; None for an empty value (null, "", [] or only blanks)."""
    if isinstance(value, list):
        values = [v for v in value if v not in (None, "")]
        return ("in", values) if values else None
    if value is None or value == "":
        return None
    return "eq", value


def popularity_share(artifact: ModelArtifact) -> npt.NDArray[np.float64]:
    """All-time popularity scaled into [0, 1): a tie-break that never outweighs one more match."""
    popularity = np.nan_to_num(np.asarray(artifact.popularity, dtype=np.float64), nan=0.0)
    top = float(popularity.max(initial=0.0))
    return popularity / (top * 1.001) if top > 0 else np.zeros(len(popularity))


def property_match_scores(artifact: ModelArtifact, properties: Mapping[str, Any] | None) -> Scores:
    """Scores of every item for ``properties``: matches count, then popularity in [0, 1)."""
    if not properties:
        raise WrongParameter(
            f"{RECO_TYPE} needs item_properties, e.g. {{'genre': 'jazz'}}", data={"parameter": "item_properties"}
        )
    if len(properties) > MAX_PROPERTIES:
        raise WrongParameter(
            f"item_properties has {len(properties)} properties; at most {MAX_PROPERTIES} are matched",
            data={"parameter": "item_properties"},
        )
    columns, n = artifact.columns, len(artifact.item_ids)
    known = set(columns.names())
    matches = np.zeros(n, dtype=np.float64)
    warnings: list[str] = []
    for name, value in properties.items():  # the request's properties, not the catalog
        rule = match_rule(value)
        if rule is None:
            warnings.append(f"item property '{name}' is empty in item_properties: ignored")
            continue
        if name not in known:
            warnings.append(f"item property '{name}' is unknown to the serving model's items: ignored")
            continue
        try:
            matches += filter_mask(columns, None, name, *rule)
        except (WrongDataType, WrongOpUse) as wrong:
            warnings.append(f"item_properties '{name}' ignored: {wrong.message}")
    share = popularity_share(artifact)
    excluded = np.zeros(n, dtype=bool)
    if not matches.any():
        warnings.append("no item matches item_properties: popular items shown")
        return Scores(share.astype(np.float32), excluded, warnings, FALLBACK)
    values = np.where(matches > 0, matches + share, -np.inf).astype(np.float32)
    return Scores(values, excluded, warnings)
