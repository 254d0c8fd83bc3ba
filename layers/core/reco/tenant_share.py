"""Each tenant's share of a route's request budget: a fixed-window counter per tenant, route and window.

API Gateway's route throttle is one budget for every caller of the route. A tenant that keeps within
its share (``burst`` requests per window of ``burst / rate`` seconds: ``rate`` per second on average)
is served; past it, it is refused until its window ends, long before it could take the whole route.

A fixed window, not a token bucket: in DynamoDB it is one conditional write per request (a token
bucket needs a read and a write, or two conditional writes). The price is that a tenant can send
up to twice its burst across the boundary of two windows.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from reco.observability import logger

# Counters outlive their window by this much, so a late write never revives an expired one.
COUNTER_GRACE_SECONDS = 60


@dataclass(frozen=True)
class TenantShare:
    """``burst`` requests per window of ``burst / rate`` seconds, per tenant and route."""

    rate: float  # requests per second, on average
    burst: int  # requests at most in one window

    def __post_init__(self) -> None:
        if not (self.rate > 0 and self.burst >= 1):
            raise ValueError(f"a tenant share needs a rate > 0 and a burst >= 1, not {self.rate} and {self.burst}")

    @property
    def window_seconds(self) -> float:
        return self.burst / self.rate

    def window_at(self, now: float) -> int:
        return math.floor(now / self.window_seconds)

    def window_end(self, window: int) -> float:
        return (window + 1) * self.window_seconds

    def describe(self) -> str:
        return f"{self.burst} requests per {self.window_seconds:g} s"


class CounterUnavailable(Exception):
    """The counter could not be read or written (throttled, unreachable): the limiter lets the request in."""


class WindowCounter(Protocol):
    def take(self, tenant: str, route: str, window: int, limit: int, expires_at: int) -> bool:
        """Count one request of ``tenant`` on ``route`` in ``window`` if fewer than ``limit`` are counted there.

        True when counted; False when the window is full; :class:`CounterUnavailable` when unknown.
        """
        ...


@dataclass
class InMemoryWindowCounter:
    """The counter of one process: exact where one process serves every request (the local runner).

    In Lambda each container has its own memory, so there the counter is DynamoDB's (reco.stores).
    """

    _windows: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # → (window, count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, tenant: str, route: str, window: int, limit: int, expires_at: int) -> bool:
        with self._lock:
            current, count = self._windows.get((tenant, route), (window, 0))
            if current != window:  # a new window: the old count goes, so memory holds one entry a tenant and route
                count = 0
            if count >= limit:
                return False
            self._windows[(tenant, route)] = (window, count + 1)
            return True


@dataclass(frozen=True)
class Admission:
    admitted: bool
    retry_after_seconds: int = 0  # whole seconds until the tenant's window ends (Retry-After)


@dataclass
class TenantLimiter:
    share: TenantShare
    counter: WindowCounter
    clock: Callable[[], float] = time.time

    def admit(self, tenant: str, route: str) -> Admission:
        """Whether ``tenant`` may run one more request on ``route`` now; fails open if the counter fails."""
        now = self.clock()
        window = self.share.window_at(now)
        ends_at = self.share.window_end(window)
        try:
            counted = self.counter.take(
                tenant, route, window, self.share.burst, math.ceil(ends_at) + COUNTER_GRACE_SECONDS
            )
        except CounterUnavailable as error:
            # A limiter that fails closed would turn its own outage into everyone's.
            logger.warning(
                "tenant request counter unavailable: request admitted", extra={"tenant": tenant, "error": str(error)}
            )
            return Admission(True)
        if counted:
            return Admission(True)
        return Admission(False, max(1, math.ceil(ends_at - now)))
