"""A tenant's events as the weighted user-by-item interactions a recipe is fitted on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from reco.event_weights import SESSION_PREFIX, event_weight, row_key
from reco.models.interactions import Interactions
from reco.records import Event


def build_interactions(
    events: Iterable[Event], weights: Mapping[str, Any], catalog_item_ids: Iterable[str] = ()
) -> Interactions:
    """Weighted interactions from events; events that weigh nothing are left out."""
    rows: list[str] = []
    items: list[str] = []
    values: list[float] = []
    times: list[float] = []
    for event in events:
        weight = event_weight(event.type, event.value, weights)
        if weight <= 0:
            continue
        rows.append(row_key(event.user_id, event.session_id))
        items.append(event.item_id)
        values.append(weight)
        times.append(event.timestamp.timestamp())
    return Interactions.from_events(
        rows,
        items,
        np.asarray(values, dtype=np.float32),
        np.asarray(times, dtype=np.float64),
        catalog_item_ids=list(catalog_item_ids),
    )


def is_session_shaped(interactions: Interactions) -> bool:
    """Whether most events belong to anonymous sessions (``s#`` rows) rather than to users.

    Session recipes (next item after a short sequence) are then worth trying; on users' long histories
    the set-based recipes are the candidates. Counted over events, not rows: a few heavy users outweigh
    many one-click sessions.
    """
    if interactions.n_events == 0:
        return False
    session_rows = np.char.startswith(interactions.user_ids.astype(np.str_), SESSION_PREFIX)
    return bool(session_rows[interactions.users].mean() > 0.5)
