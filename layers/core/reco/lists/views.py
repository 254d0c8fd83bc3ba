"""How a ranked list is shown: recommendation objects with item details and explanations, groups, the envelope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from reco.lists.explain import anchors, case_rules, shown_because, strongest_interactions, summary
from reco.lists.filters import ListFilter
from reco.lists.groups import Group, group_id
from reco.models.interactions import I64
from reco.recommendations.facts import ItemDetailsReader
from reco.recommendations.service import ListPlan, Scores
from reco.records import Item, item_name
from reco.schemas.lists import (
    Context,
    EmbeddingInfo,
    ItemDetails,
    ItemExplanation,
    Recommendation,
    RecommendationGroup,
    RecommendationList,
)

SHOWN_PROPERTIES = frozenset({"name", "title", "description"})
REQUEST_NOTE = (
    "Each recommendation item includes its own explanation object with source, score, pipeline, rules, "
    "experiments, and context."
)
ACTIVE_DAYS = 7


@dataclass
class ListView:
    tenant: str
    plan: ListPlan
    context: Context | None
    filters: list[ListFilter]
    viewed: dict[str, Any] | None
    items: ItemDetailsReader
    entity_name: str | None = None
    # A browser token asking about another user's list must not learn that user's history: no
    # anchors, no segments, no count of viewed items.
    private: bool = False
    scores: Scores | None = None
    source_name: str = "trending"
    category: str | None = None
    _catalog: dict[str, Item | None] = field(default_factory=dict)

    def shown_viewed(self) -> dict[str, Any] | None:
        """The viewed-item exclusion as the caller may see it (no count for a private list)."""
        if self.viewed is None or not self.private:
            return self.viewed
        return {**self.viewed, "count": None}

    # --- catalog ---------------------------------------------------------------------------------
    def catalog(self, item_ids: Sequence[str]) -> dict[str, Item | None]:
        missing = [i for i in dict.fromkeys(item_ids) if i not in self._catalog]
        if missing:
            found = self.items.get_items(self.tenant, missing)
            self._catalog.update({i: found.get(i) for i in missing})
        return {i: self._catalog[i] for i in item_ids}

    def names(self, item_ids: Sequence[str | None]) -> dict[str, str | None]:
        ids = [i for i in item_ids if i]
        return {i: item_name(item) for i, item in self.catalog(ids).items()}

    # --- recommendations -------------------------------------------------------------------------
    def _entity(self) -> str | None:
        item_id = self.plan.facts.requester.item_id
        if self.entity_name or item_id is None:
            return self.entity_name
        return self.names([item_id]).get(item_id) or item_id

    def response(
        self,
        request_id: str,
        data: Sequence[Recommendation | RecommendationGroup],
        has_more: bool,
        next_cursor: str | None,
        limit: int,
        mode: str,
        warnings: list[str],
        user_segments: list[str],
    ) -> RecommendationList:
        return _response(self, request_id, data, has_more, next_cursor, limit, mode, warnings, user_segments)

    def served(self, data: Sequence[Recommendation | RecommendationGroup]) -> tuple[list[str], list[float]]:
        return served(data)

    def _pipeline(self) -> dict[str, Any]:
        serving = self.plan.serving
        return {
            "model_id": serving.record.model_id,
            "model_version": serving.version,
            "recipe": serving.artifact.recipe,
            "reco_type": self.plan.resolution.reco_type,
            "scenario": self.plan.request.query.scenario,
            "stages": ["score", "scenario", "filters", "exclusions", "rank"],
        }


def render_items(view: ListView, rows: I64, offset: int) -> list[Recommendation]:
    """Recommendation objects for ``rows`` (ranks from ``offset + 1``)."""
    artifact, plan = view.plan.serving.artifact, view.plan
    scores = view.scores
    assert scores is not None
    ids = [str(i) for i in artifact.item_ids[rows].tolist()]
    catalog = view.catalog(ids)
    personal = view.source_name in ("user_profile", "session_history") and not view.private
    weights = artifact.metadata.get("event_weights", {})
    interactions = strongest_interactions(plan.facts.events(), weights)
    found = anchors(artifact, scores.source if personal else None, rows, interactions)
    anchor_names = view.names([a.item_id for a in found if a is not None])
    fallback_reason = scores.source.reason if scores.source is not None and scores.fallback else None
    rules = case_rules(plan.case, view.filters, view.shown_viewed())
    pipeline = view._pipeline()
    experiments = _experiments(plan)
    context = _context(view.context)
    entity = view._entity() if view.source_name == "item_similarity" else None
    out = []
    for k, (item_id, row, anchor) in enumerate(zip(ids, rows.tolist(), found, strict=True)):
        score = round(float(scores.values[row]), 6)
        first = summary(
            view.source_name,
            anchor,
            anchor_names,
            item_id=item_id,
            entity_name=entity,
            category=view.category,
            reason=fallback_reason,
        )
        explanation = ItemExplanation(
            summary=first,
            shown_because=shown_because(first, view.filters, plan.case, fallback_reason),
            source=view.source_name,
            score=score,
            pipeline=pipeline,
            rules=rules,
            experiments=experiments,
            context=context,
            anchor=None
            if anchor is None
            else {
                "item_id": anchor.item_id,
                "name": anchor_names.get(anchor.item_id),
                "interaction": anchor.interaction,
                "contribution": anchor.contribution,
                "share": anchor.share,
            },
        )
        out.append(
            Recommendation(
                id=f"rec_{item_id}",
                item_id=item_id,
                rank=offset + k + 1,
                score=score,
                item=_details(item_id, catalog.get(item_id)),
                explanation=explanation,
            )
        )
    return out


def render_groups(
    view: ListView, groups: Sequence[Group], group_by: str, group_size: int, offset: int, limit: int
) -> tuple[list[RecommendationGroup], bool]:
    """Groups ``offset … offset + limit`` of ``groups`` (a ranked list's), each with its first ``group_size`` items."""
    page = groups[offset : offset + limit]
    empty = np.empty(0, dtype=np.int64)
    shown = render_items(view, np.concatenate([g.rows[:group_size] for g in page]) if page else empty, 0)
    out, at = [], 0
    for k, group in enumerate(page):
        members = shown[at : at + min(group_size, len(group.rows))]
        at += len(members)
        for rank, member in enumerate(members, start=1):
            member.rank = rank
        out.append(
            RecommendationGroup(
                id=group_id(group.value),
                group_by=group_by,
                value=group.value,
                rank=offset + k + 1,
                score=members[0].score if members else 0.0,
                count=len(group.rows),
                items=members,
            )
        )
    return out, len(groups) > offset + limit


def _response(
    view: ListView,
    request_id: str,
    data: Sequence[Recommendation | RecommendationGroup],
    has_more: bool,
    next_cursor: str | None,
    limit: int,
    mode: str,
    warnings: list[str],
    user_segments: list[str],
) -> RecommendationList:
    scores = view.scores
    fallback = scores is not None and scores.fallback is not None
    reason = scores.source.reason if scores is not None and scores.source is not None else None
    if fallback and reason is None and scores is not None and scores.warnings:
        reason = scores.warnings[0]
    explanation: dict[str, Any] = {
        "scope": "request",
        "note": REQUEST_NOTE,
        "source": view.source_name,
        "fallback": {"used": fallback, "reason": reason if fallback else None},
        "evaluated_scenarios": view.plan.resolution.evaluated_scenarios,
        "rules": case_rules(view.plan.case, view.filters, view.shown_viewed()),
        "warnings": [*view.plan.resolution.warnings, *warnings],
    }
    return RecommendationList(
        request_id=request_id,
        data=list(data),
        recommendations=list(data),
        has_more=has_more,
        next_cursor=next_cursor,
        limit=limit,
        quantity=len(data),
        embedding_info=_embedding(view, fallback, reason),
        cold_start_fallback_used=fallback,
        explanation=explanation,
        excluded_viewed_items=view.shown_viewed(),
        processing_time_ms=0,
        mode=mode,
        experiments=_experiments(view.plan),
        user_segments=[] if view.private else user_segments,
        pipeline_id=int(view.context.id) if view.context is not None else None,
    )


def served(data: Sequence[Recommendation | RecommendationGroup]) -> tuple[list[str], list[float]]:
    """The item ids and scores shown, flattened (groups' items in order)."""
    flat = [m for d in data for m in (d.items if isinstance(d, RecommendationGroup) else [d])]
    return [m.item_id for m in flat], [m.score for m in flat]


def segments(plan: ListPlan) -> list[str]:
    """Segments computed from the history read for this request, plus the user's own ``segments`` property."""
    events = plan.facts.events()
    found = ["returning" if events else "new_visitor"]
    if any(e.timestamp >= plan.facts.as_of - timedelta(days=ACTIVE_DAYS) for e in events):
        found.append("recently_active")
    if any(e.type == "purchase" for e in events):
        found.append("purchaser")
    stored = plan.facts.user_property("segments") if plan.facts.requester.user_id else None
    if isinstance(stored, str):
        stored = [stored]
    if isinstance(stored, list):
        found.extend(str(s) for s in stored if isinstance(s, str) and s not in found)
    return found


def _embedding(view: ListView, fallback: bool, reason: str | None) -> EmbeddingInfo:
    model = view.plan.serving.artifact.model
    factors = getattr(model, "item_factors", None)
    expected = int(factors.shape[1]) if factors is not None else (model.n_items if view.source_name else None)
    if view.plan.serving.artifact.recipe in ("popularity", "trending"):
        expected = None
    source = view.scores.source if view.scores is not None else None
    kind = {
        "user": "model",
        "user+recent_events": "model+events",
        "recent_events": "events",
        "text": "text",
    }.get(source.personalised_by if source is not None else "", "item")
    if view.source_name in ("trending", "popular_in_category") or fallback:
        kind = "default"
    return EmbeddingInfo(
        source=kind,
        used_default=fallback,
        default_reason=reason if fallback else None,
        dimension=None if kind == "default" else expected,
        expected_dimension=expected,
    )


def _experiments(plan: ListPlan) -> list[dict[str, Any]]:
    return [
        {"id": e.test_id, "scenario": e.scenario_name, "variant": e.variant, "assigned_to": e.assigned_to}
        for e in plan.resolution.experiments
    ]


def _context(context: Context | None) -> dict[str, Any] | None:
    if context is None:
        return None
    return {"context_id": context.id, "name": context.name, "scenario": context.scenario}


def _details(item_id: str, item: Item | None) -> ItemDetails:
    properties = dict(item.properties) if item is not None else {}
    description = properties.get("description")
    return ItemDetails(
        id=item_id,
        name=item_name(item),
        description=description if isinstance(description, str) else None,
        metadata={k: v for k, v in properties.items() if k not in SHOWN_PROPERTIES},
    )
