"""How one event counts: its row (user or session) and its weight under a model's ``event_weights``.

Training builds its matrix with these, and request-time scoring weighs a caller's fresh events the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
