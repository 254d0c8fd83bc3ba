"""The scores of a list's entity: a user's profile, a session, an item's neighbours, or a described stranger."""

from __future__ import annotations

import numpy as np

from reco.models.interactions import I64
from reco.models.text_index import tokenize
from reco.recommendations.service import ListPlan, RecommendationServices, Scores, request_scores
from reco.serving.scoring import ScoreSource

TEXT_SEEDS = 10  # catalog items matching a name / description that stand in for an unknown entity
MAX_TEXT_TOKENS = 32


def entity_scores(plan: ListPlan, services: RecommendationServices, text: str | None) -> tuple[Scores, str]:
    """The entity's scores and their source name; an entity the model does not know may be described by ``text``."""
    artifact, requester = plan.serving.artifact, plan.facts.requester
    if plan.resolution.reco_type == "item_to_items" and requester.item_id is not None:
        known = int(artifact.item_rows([requester.item_id])[0]) >= 0
        if not known and text:
            return _text_scores(plan, text, f"item '{requester.item_id}' is not in the trained model")
        scores = request_scores(plan, services)
        return scores, "trending" if scores.fallback else "item_similarity"
    scores = request_scores(plan, services)
    if scores.fallback and text:
        return _text_scores(plan, text, scores.source.reason if scores.source else None)
    if scores.fallback:
        return scores, "trending"
    personal = scores.source is not None and scores.source.personalised_by.startswith("user")
    return scores, "user_profile" if personal else "session_history"


def _text_scores(plan: ListPlan, text: str, reason: str | None) -> tuple[Scores, str]:
    """Scores of a profile seeded with the catalog items whose text properties best match ``text``."""
    artifact = plan.serving.artifact
    tokens = list(dict.fromkeys(tokenize(text)))[:MAX_TEXT_TOKENS]
    hits = np.zeros(len(artifact.item_ids), dtype=np.float32)
    for name in artifact.texts.names():
        for token in tokens:
            hits += artifact.texts.match(name, token)
    excluded = np.zeros(len(artifact.item_ids), dtype=bool)
    if not hits.any():
        values = np.asarray(artifact.trending, dtype=np.float32)
        warning = f"{reason or 'unknown entity'}; no catalog text matches the name/description: trending shown"
        source = ScoreSource("none", fallback="trending", reason=reason)
        return Scores(values, excluded, [warning], "trending", source), "trending"
    order = np.lexsort((-np.asarray(artifact.trending), -hits))
    seeds: I64 = order[: min(TEXT_SEEDS, int((hits > 0).sum()))].astype(np.int64)
    weights = np.ones(len(seeds), dtype=np.float32)
    values = artifact.model.score_history(seeds, weights)
    source = ScoreSource("text", history=(seeds, weights))
    return Scores(values, excluded, [], None, source), "text_match"
