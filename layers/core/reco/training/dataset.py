"""A tenant's events as the weighted user-by-item interactions a recipe is fitted on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from reco.models import Interactions
from reco.records import Event

USER_PREFIX = "u#"
SESSION_PREFIX = "s#"
MAX_EVENT_WEIGHT = 1e6


def row_key(user_id: str | None, session_id: str | None) -> str:
    """The matrix row of an event: its user, else its session (sessions teach item-to-item patterns)."""
    return USER_PREFIX + user_id if user_id is not None else SESSION_PREFIX + str(session_id)


def event_weight(event_type: str, value: float | None, weights: Mapping[str, Any]) -> float:
    """How much one event counts under a model's ``event_weights`` (0: ignored).

    An entry is a number, or ``{"weight", "min_value"?, "use_value"?}``; types without an entry take
    the ``"*"`` entry, and are ignored when there is none.
    """
    rule = weights.get(event_type, weights.get("*", 0.0))
    if not isinstance(rule, Mapping):
        return float(rule)
    min_value = rule.get("min_value")
    if min_value is not None and (value is None or value < min_value):
        return 0.0
    weight = float(rule.get("weight", 1.0))
    if rule.get("use_value") and value is not None:
        # Values may be as large as DynamoDB allows (1e125): beyond float32 they would make the
        # factors NaN. One event never weighs more than MAX_EVENT_WEIGHT.
        return min(max(weight * value, 0.0), MAX_EVENT_WEIGHT)
    return weight


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
