"""GET /v1/recommendations' and /v1/contexts' services."""

from __future__ import annotations

from reco.lists.contexts import ContextServices
from reco.lists.query import ListServices
from reco.services.recommendations import recommendation_services
from reco.settings import get_settings
from reco.stores.aws import cached_store
from reco.stores.catalog import catalog_store
from reco.stores.contexts import context_store
from reco.stores.scenarios import scenario_store


def context_services() -> ContextServices:
    return ContextServices(context_store(), scenario_store())


@cached_store
def list_services() -> ListServices:
    return ListServices(recommendation_services(), context_store(), catalog_store(), get_settings().category_property)
