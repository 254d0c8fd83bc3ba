"""Explanations computed from the model: which history item made each recommendation, and what shaped the list.

For recipes whose score is a sum over the history (ALS fold-in, EASE, item kNN), the anchor of an
item is the history item with the largest contribution (``Recommender.contributions``), named with
the strongest way the user interacted with it. Rules, filters, experiments and the fallback are
the ones that really applied to this request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reco.event_weights import event_weight
from reco.lists.filters import ListFilter, describe
from reco.models.artifact import ModelArtifact
from reco.models.interactions import I64
from reco.records import Event
from reco.schemas.scenarios import Case
from reco.serving.scoring import ScoreSource

PAST_TENSE = {
    "view": "viewed",
    "click": "clicked",
    "add_to_cart": "added to the cart",
    "purchase": "purchased",
    "rating": "rated",
    "like": "liked",
    "wishlist": "wishlisted",
    "share": "shared",
}


@dataclass(frozen=True)
class Anchor:
    """The history item that contributed most to one recommendation's score."""

    item_id: str
    interaction: str  # event type, or "interaction" when the event is older than the history read
    contribution: float
    share: float  # of the item's positive contributions


def interaction_phrase(event_type: str) -> str:
    return PAST_TENSE.get(event_type, "interacted with")


def because(event_type: str, shown: str) -> str:
    """``Because you purchased 'X'`` (``added 'X' to your cart`` reads better than the past tense alone)."""
    if event_type == "add_to_cart":
        return f"Because you added {shown} to your cart"
    return f"Because you {interaction_phrase(event_type)} {shown}"


def strongest_interactions(events: Sequence[Event], weights: Mapping[str, Any]) -> dict[str, str]:
    """``{item_id: event type}``: per item, the type that weighs most (a purchase beats a view)."""
    best: dict[str, tuple[float, str]] = {}
    for event in events:
        weight = event_weight(event.type, event.value, dict(weights))
        if event.item_id not in best or weight > best[event.item_id][0]:
            best[event.item_id] = (weight, event.type)
    return {item_id: kind for item_id, (_, kind) in best.items()}


def anchors(
    artifact: ModelArtifact, source: ScoreSource | None, rows: I64, interactions: Mapping[str, str]
) -> list[Anchor | None]:
    """Per row, its largest positive contributor among the history the scores came from (None if none)."""
    if source is None or len(rows) == 0 or (source.user_row is None and source.history is None):
        return [None] * len(rows)
    explained = artifact.model.contributions(source.user_row, source.history, rows)
    if explained is None or len(explained[0]) == 0:
        return [None] * len(rows)
    items, matrix = explained
    best = np.argmax(matrix, axis=0)
    top = matrix[best, np.arange(len(rows))]
    positive = np.where(matrix > 0, matrix, 0.0).sum(axis=0)
    ids = artifact.item_ids[items[best]].tolist()
    found: list[Anchor | None] = []
    for item_id, value, total in zip(ids, top.tolist(), positive.tolist(), strict=True):
        if value <= 0:
            found.append(None)
            continue
        kind = interactions.get(str(item_id), "interaction")
        found.append(Anchor(str(item_id), kind, round(float(value), 6), round(float(value / total), 4)))
    return found


def case_rules(case: Case, filters: Sequence[ListFilter], viewed: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Every rule that shaped the list: the scenario case's, the context's and the request's."""
    rules: list[dict[str, Any]] = []
    for rule in case.filters or []:
        value = rule.value if not isinstance(rule.value, dict) else dict(rule.value)
        rules.append({"type": "scenario_filter", "property": rule.property_name, "op": rule.op, "value": value})
    for rerank in case.reranking or []:
        rules.append({"type": "diversity", "property": rerank.property_name, "weight": rerank.weight})
    if case.exclude_rated_items:
        rules.append({"type": "exclude_rated_items"})
    if case.exclude_items_with_interaction_types:
        rules.append(
            {"type": "exclude_interacted_items", "interaction_types": list(case.exclude_items_with_interaction_types)}
        )
    for applied in filters:
        rules.append(
            {"type": "filter", "source": applied.source, "text": applied.text, "description": describe(applied)}
        )
    if viewed is not None:
        rules.append({"type": "excluded_viewed_items", **viewed})
    return rules


def summary(
    source_name: str,
    anchor: Anchor | None,
    names: Mapping[str, str | None],
    *,
    item_id: str | None = None,
    entity_name: str | None = None,
    category: str | None = None,
    reason: str | None = None,
) -> str:
    """One sentence a shopper could be shown (``item_id``: the recommended item)."""
    if anchor is not None and anchor.item_id == item_id:
        # The item's own history is its largest contributor: the shopper came back to it.
        return f"{because(anchor.interaction, 'this item').replace('Because you', 'You', 1)} before."
    if anchor is not None:
        shown = names.get(anchor.item_id) or anchor.item_id
        return f"{because(anchor.interaction, _quoted(shown))}."
    if source_name == "item_similarity":
        return f"Similar to {_quoted(entity_name)}." if entity_name else "Similar to the item shown."
    if source_name == "popular_in_category":
        return f"Popular in {category}." if category else "Popular in this category."
    if source_name == "text_match":
        return "Matches the description given for this request."
    if source_name == "trending":
        return f"Trending now ({reason})." if reason else "Trending now."
    return "Ranked by the model's reading of your recent activity."


def _quoted(name: str) -> str:
    """A catalog name in the sentence: single quotes, whatever the name holds (repr would switch to double)."""
    return f"'{name}'"


def shown_because(first: str, filters: Sequence[ListFilter], case: Case, fallback_reason: str | None) -> list[str]:
    reasons = [first]
    reasons.extend(f"Matches the filter: {describe(rule)}." for rule in filters)
    if case.filters:
        reasons.append(f"Passed the scenario's {len(case.filters)} filter(s).")
    if case.reranking:
        reasons.append("Reranked for diversity by " + ", ".join(r.property_name for r in case.reranking) + ".")
    if fallback_reason:
        reasons.append(f"Fallback used: {fallback_reason}.")
    return reasons
