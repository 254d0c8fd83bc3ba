"""rank_candidates: the domain behind POST /v1/recommend."""

from __future__ import annotations

from itertools import islice

from reco.errors import ModelNotFound, ModelNotReady
from reco.ids import new_rec_id
from reco.ranking.candidates import duplicate_echo
from reco.ranking.mock import is_mock_model, mock_scores, raise_mock_error
from reco.registry import ModelLookup
from reco.schemas.ranking import RankedItem, RecommendRequest, RecommendResponse


def rank_candidates(tenant: str, request: RecommendRequest, models: ModelLookup) -> RecommendResponse:
    """Rank the request's candidates with its model, for the caller's tenant."""
    model_id = request.model
    if not is_mock_model(model_id):
        record = models.get(tenant, model_id)
        if record is None:
            raise ModelNotFound(f"model not found: '{model_id}'", data={"model_id": model_id})
        # Serving trained artifacts arrives with the data plane; until then no version can serve.
        raise ModelNotReady(
            f"model '{model_id}' is {record.status} and has no version that can serve yet; retry once it is trained",
            data={"model_id": model_id, "status": record.status},
        )
    raise_mock_error(model_id)
    candidates = request.candidates()
    ids = [c.id for c in candidates]
    echo = duplicate_echo(ids, [c.attributes for c in candidates])
    scores = mock_scores(len(ids))
    ranked = zip(ids, scores, echo, strict=True)
    items = [RankedItem(id=i, score=s, **e) for i, s, e in islice(ranked, request.limit or len(ids))]
    return RecommendResponse(rec_id=new_rec_id(), items=items)
