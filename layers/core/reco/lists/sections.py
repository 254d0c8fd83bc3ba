"""Auto mode: the next section of a feed, chosen from the user's recent activity.

Sections, in order: "because you viewed X" for each recent anchor (newest first, at most
``candidate_limit``), then "popular in <category>" for the anchors' categories, then "trending".
One section is served per call, in that order; the cursor remembers which were served (at most
``served_cap`` keys, oldest dropped first: the feed resumes after the newest, so no section comes
back), and a section that nothing fits (filters, exclusions) is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from reco.lists.explain import because
from reco.models.artifact import ModelArtifact
from reco.models.columns import column_key
from reco.models.interactions import F32, Bools
from reco.records import Event

TRENDING = "trending"


@dataclass(frozen=True)
class SectionPlan:
    key: str
    type: str  # because_you_viewed | popular_in_category | trending
    anchor_row: int | None = None
    anchor_item_id: str | None = None
    anchor_interaction: str | None = None
    category: str | None = None

    def title(self, anchor_name: str | None) -> str:
        if self.type == "because_you_viewed":
            return because(self.anchor_interaction or "view", anchor_name or self.anchor_item_id or "")
        if self.type == "popular_in_category":
            return f"Popular in {self.category}"
        return "Trending now"


def recent_anchors(
    events: Sequence[Event], artifact: ModelArtifact, as_of: datetime, window_days: int, limit: int
) -> list[tuple[str, int, str]]:
    """(item id, row, event type) of the newest distinct items interacted with in the window, known to the model."""
    since = as_of - timedelta(days=window_days)
    recent = [e for e in events if since <= e.timestamp <= as_of]
    recent.sort(key=lambda e: e.timestamp, reverse=True)
    firsts: dict[str, str] = {}
    for event in recent:
        firsts.setdefault(event.item_id, event.type)
    ids = list(firsts)
    rows = artifact.item_rows(ids) if ids else np.empty(0, dtype=np.int64)
    known = [(item_id, int(row), firsts[item_id]) for item_id, row in zip(ids, rows.tolist(), strict=True) if row >= 0]
    return known[:limit]


def _categories(artifact: ModelArtifact, rows: Sequence[int], category_property: str) -> list[str]:
    """The anchors' category values, most frequent first (ties: the newest anchor's first)."""
    columns = artifact.columns
    if category_property not in columns.names() or not rows:
        return []
    kind, key = columns.kind(category_property), column_key(category_property)
    if kind not in ("string", "strings"):
        return []
    column, vocab = columns.columns[key], columns.columns[f"{key}/vocab"]
    codes: list[int] = []
    if kind == "string":
        codes = [int(c) for c in column[np.asarray(rows)] if c >= 0]
    else:
        indptr = columns.columns[f"{key}/indptr"]
        for row in rows:
            codes.extend(int(c) for c in column[indptr[row] : indptr[row + 1]])
    order = {code: position for position, code in reversed(list(enumerate(codes)))}
    counts: dict[int, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    ranked = sorted(counts, key=lambda code: (-counts[code], order[code]))
    return [str(vocab[code]) for code in ranked]


def section_plans(
    events: Sequence[Event],
    artifact: ModelArtifact,
    as_of: datetime,
    *,
    window_days: int,
    candidate_limit: int,
    category_property: str,
) -> list[SectionPlan]:
    anchors = recent_anchors(events, artifact, as_of, window_days, candidate_limit)
    plans = [
        SectionPlan(f"because:{item_id}", "because_you_viewed", row, item_id, kind) for item_id, row, kind in anchors
    ]
    for category in _categories(artifact, [row for _, row, _ in anchors], category_property):
        plans.append(SectionPlan(f"category:{category}", "popular_in_category", category=category))
    plans.append(SectionPlan(TRENDING, "trending"))
    return plans


def section_scores(
    plan: SectionPlan, artifact: ModelArtifact, anchor_rows: Sequence[int], category_property: str
) -> tuple[F32, Bools]:
    """The section's scores and the rows it may show (anchors themselves are never shown)."""
    n = len(artifact.item_ids)
    allowed = np.ones(n, dtype=bool)
    allowed[np.asarray(list(anchor_rows), dtype=np.int64)] = False
    if plan.type == "because_you_viewed" and plan.anchor_row is not None:
        return artifact.model.similar_scores(plan.anchor_row), allowed
    trending = np.asarray(artifact.trending, dtype=np.float32)
    if plan.type == "popular_in_category" and plan.category is not None:
        return trending, allowed & artifact.columns.isin(category_property, [plan.category])
    return trending, allowed


def next_position(plans: Sequence[SectionPlan], served: Sequence[str]) -> int:
    """Where the feed resumes: after the section served last.

    Sections are served in plan order and the cursor freezes the history, so everything before the
    last served section was served (or had nothing to show) even when ``served_cap`` dropped its key.
    """
    if not served:
        return 0
    positions = {plan.key: position for position, plan in enumerate(plans)}
    last = positions.get(served[-1])
    return 0 if last is None else last + 1


def remember(served: Sequence[str], key: str, cap: int) -> tuple[str, ...]:
    """The served keys after serving ``key``: at most ``cap``, the oldest dropped first."""
    kept = [k for k in served if k != key] + [key]
    return tuple(kept[-cap:])
