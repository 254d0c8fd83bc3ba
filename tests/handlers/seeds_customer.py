"""Data the customer API's sample events (events/customer-*.json) need before they can succeed, keyed by file name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from reco.customer.logs import RequestLog
from reco.stores.request_logs import request_log_store
from tests.customer.catalog import load_customer_shop

TENANT = "demo"  # the tenant claim of every sample event


def seed_shop() -> None:
    """Items with category, price and created_at (ids product_100 …, product_456, product_789) and a model."""
    load_customer_shop(TENANT)


def seed_logs() -> None:
    """One request's two rows, an hour ago (inside the default 24-hour window)."""
    at = datetime.now(UTC) - timedelta(hours=1)
    store = request_log_store()
    store.write(TENANT, RequestLog("sequence", "seed-request", at, {"template": "trending", "sequence_data": {}}))
    store.write(TENANT, RequestLog("decision", "seed-request", at + timedelta(seconds=1), {"results": []}))


CUSTOMER_SEEDS: dict[str, Callable[[], None]] = {
    "customer-recommend.json": seed_shop,
    "customer-logs.json": seed_logs,
}
