"""POST /v1/recommend's services."""

from __future__ import annotations

from reco.ranking.service import RankingServices
from reco.services.serving import model_cache
from reco.serving.history import RecentEvents
from reco.stores.aws import cached_store
from reco.stores.decisions import decision_store
from reco.stores.events import event_store


@cached_store
def ranking_services() -> RankingServices:
    return RankingServices(model_cache(), RecentEvents(event_store()), decision_store())
