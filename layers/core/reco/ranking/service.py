"""rank_candidates: the domain behind POST /v1/recommend."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

import numpy as np

from reco.decisions import Decision, DecisionLog
from reco.ids import new_rec_id
from reco.models.topk import top_k
from reco.ranking.candidates import duplicate_echo
from reco.ranking.mock import is_mock_model, mock_scores, raise_mock_error
from reco.schemas.ranking import Fallback, RankedItem, RecommendRequest, RecommendResponse
from reco.serving.attributes import catalog_values
from reco.serving.cache import ModelCache
from reco.serving.history import RecentEvents
from reco.serving.scoring import score_candidates

# Unseen candidates rank below every seen one, by this fraction of the seen scores' range.
UNSEEN_MARGIN = 0.01


@dataclass(frozen=True)
class RankingServices:
    """What ranking reads and writes, injected so the domain never touches AWS itself."""

    models: ModelCache
    history: RecentEvents
    decisions: DecisionLog


def rank_candidates(
    tenant: str, request: RecommendRequest, services: RankingServices, request_id: str | None = None
) -> RecommendResponse:
    """Rank the request's candidates with its model, for the caller's tenant."""
    model_id = request.model
    candidates = request.candidates()
    ids = [c.id for c in candidates]
    attributes = [c.attributes for c in candidates]
    echo = duplicate_echo(ids, attributes)
    limit = min(request.limit or len(ids), len(ids))  # a limit past the candidates returns them all
    if is_mock_model(model_id):
        raise_mock_error(model_id)
        ranked = zip(ids, mock_scores(len(ids)), echo, strict=True)
        items = [RankedItem(id=i, score=s, **e) for i, s, e in islice(ranked, limit)]
        return RecommendResponse(rec_id=new_rec_id(), items=items)

    serving = services.models.current(tenant, model_id)
    artifact = serving.artifact
    rows = artifact.item_rows(ids)
    events = services.history.recent_events(tenant, request.user_id, request.session_id)
    seen = rows >= 0
    known, source = score_candidates(artifact, request.user_id, events, rows[seen])
    if serving.rules:
        seen_attributes = [a for a, s in zip(attributes, seen.tolist(), strict=True) if s]
        catalog = catalog_values(artifact.columns, serving.rules.names(), rows[seen])
        known = serving.rules.apply(known, seen_attributes, catalog, request.context)
    scores = _with_unseen_last(known, seen)
    order, _ = top_k(scores, limit)
    items = [RankedItem(id=ids[i], score=round(float(scores[i]), 6), **echo[i]) for i in order]
    response = RecommendResponse(
        rec_id=new_rec_id(),
        items=items,
        fallback=Fallback(source=source.fallback, reason=source.reason) if source.fallback else None,
    )
    services.decisions.record(
        tenant,
        Decision(
            rec_id=response.rec_id,
            endpoint="POST /v1/recommend",
            items=[item.id for item in items],
            scores=[item.score for item in items],
            user_id=request.user_id,
            session_id=request.session_id,
            model_id=model_id,
            model_version=serving.version,
            context=dict(request.context or {}),
            fallback=source.fallback,
            request_id=request_id,
        ),
    )
    return response


def _with_unseen_last(known: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Scores in request order; candidates the model never saw rank last, in request order."""
    scores = np.zeros(len(seen), dtype=np.float32)
    scores[seen] = known
    if not seen.all():
        low = float(known.min()) if known.size else 0.0
        spread = float(known.max() - low) if known.size else 0.0
        scores[~seen] = low - UNSEEN_MARGIN * (spread if spread > 0 else 1.0)
    return scores
