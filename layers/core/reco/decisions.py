"""A served recommendation list, kept so that later events carrying its id can be attributed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Decision:
    rec_id: str
    endpoint: str
    items: list[str]
    scores: list[float]
    user_id: str | None = None
    session_id: str | None = None
    model_id: str | None = None
    model_version: int | None = None
    context: dict[str, Any] = field(default_factory=dict)
    fallback: str | None = None
    request_id: str | None = None
    anonymous_id: str | None = None


class DecisionLog(Protocol):
    def record(self, tenant: str, decision: Decision) -> None: ...
