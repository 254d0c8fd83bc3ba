"""POST /api/recommend/recommend's services."""

from __future__ import annotations

from reco.customer.service import CustomerServices
from reco.services.recommendations import recommendation_services
from reco.stores.aws import cached_store
from reco.stores.request_logs import request_log_store


@cached_store
def customer_services() -> CustomerServices:
    return CustomerServices(recommendation_services(), request_log_store())
