"""The scenario-driven recommendation services that every list endpoint builds on."""

from __future__ import annotations

from reco.recommendations.service import RecommendationServices
from reco.services.serving import model_cache
from reco.stores.aws import cached_store
from reco.stores.catalog import catalog_store
from reco.stores.decisions import decision_store
from reco.stores.events import event_store
from reco.stores.scenarios import scenario_store


@cached_store
def recommendation_services() -> RecommendationServices:
    return RecommendationServices(model_cache(), event_store(), catalog_store(), scenario_store(), decision_store())
