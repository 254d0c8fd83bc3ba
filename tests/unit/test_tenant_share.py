"""Each tenant's share of a route: a fixed window of ``burst`` requests per ``burst / rate`` seconds."""

from __future__ import annotations

import pytest

from reco.settings import Settings
from reco.tenant_share import (
    COUNTER_GRACE_SECONDS,
    Admission,
    CounterUnavailable,
    InMemoryWindowCounter,
    TenantLimiter,
    TenantShare,
)

ROUTE = "POST /v1/recommend"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limiter(rate: float = 50, burst: int = 100, now: float = 1000.0) -> tuple[TenantLimiter, Clock]:
    clock = Clock(now)
    return TenantLimiter(TenantShare(rate, burst), InMemoryWindowCounter(), clock), clock


def test_the_window_is_the_burst_at_the_rate() -> None:
    share = TenantShare(rate=50, burst=100)
    assert share.window_seconds == 2.0
    assert (share.window_at(1000.0), share.window_at(1001.999), share.window_at(1002.0)) == (500, 500, 501)
    assert share.window_end(500) == 1002.0
    assert share.describe() == "100 requests per 2 s"


@pytest.mark.parametrize(("rate", "burst"), [(0, 10), (-1, 10), (10, 0)])
def test_a_share_needs_a_positive_rate_and_burst(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="a tenant share needs"):
        TenantShare(rate, burst)


def test_a_tenant_gets_its_burst_then_waits_for_its_window_to_end() -> None:
    tenant_limiter, clock = limiter(now=1000.5)  # half a second into the window [1000, 1002)
    answers = [tenant_limiter.admit("x", ROUTE) for _ in range(101)]
    assert answers[:100] == [Admission(True)] * 100
    assert answers[100] == Admission(False, 2)  # 1.5 s left, rounded up: Retry-After is whole seconds
    clock.now = 1001.2
    assert tenant_limiter.admit("x", ROUTE) == Admission(False, 1)
    clock.now = 1002.0  # the next window: a full burst again
    assert sum(tenant_limiter.admit("x", ROUTE).admitted for _ in range(101)) == 100


def test_tenants_and_routes_have_shares_of_their_own() -> None:
    tenant_limiter, _ = limiter(rate=1, burst=2)
    assert [tenant_limiter.admit("x", ROUTE).admitted for _ in range(3)] == [True, True, False]
    assert [tenant_limiter.admit("y", ROUTE).admitted for _ in range(3)] == [True, True, False]
    assert [tenant_limiter.admit("x", "GET /v1/items").admitted for _ in range(3)] == [True, True, False]


def test_retry_after_is_at_least_a_second() -> None:
    tenant_limiter, clock = limiter(rate=10, burst=1, now=1000.0)  # windows of 0.1 s
    assert tenant_limiter.admit("x", ROUTE).admitted
    clock.now = 1000.09
    assert tenant_limiter.admit("x", ROUTE) == Admission(False, 1)


class FailingCounter:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int, int, int]] = []

    def take(self, tenant: str, route: str, window: int, limit: int, expires_at: int) -> bool:
        self.calls.append((tenant, route, window, limit, expires_at))
        raise CounterUnavailable("ProvisionedThroughputExceededException")


def test_a_counter_that_fails_admits_the_request() -> None:
    counter = FailingCounter()
    tenant_limiter = TenantLimiter(TenantShare(50, 100), counter, Clock(1000.5))
    assert [tenant_limiter.admit("x", ROUTE) for _ in range(3)] == [Admission(True)] * 3
    # The counter was asked for the tenant's window, its burst, and an expiry past the window's end.
    assert counter.calls[0] == ("x", ROUTE, 500, 100, 1002 + COUNTER_GRACE_SECONDS)


def test_the_share_is_read_from_the_environment_and_off_by_default() -> None:
    assert (Settings().tenant_rate_limit, Settings().tenant_burst_limit) == (0.0, 0)
    settings = Settings.from_env(
        {"TENANT_RATE_LIMIT": "12.5", "TENANT_BURST_LIMIT": "25", "RATE_COUNTERS_TABLE": "counters"}
    )
    assert (settings.tenant_rate_limit, settings.tenant_burst_limit, settings.rate_counters_table) == (
        12.5,
        25,
        "counters",
    )
