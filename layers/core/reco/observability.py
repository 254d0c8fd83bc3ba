"""Powertools singletons (one Logger, Metrics and Tracer per process) and the request correlation id.

The Tracer is built on first use, and only where it traces: building it loads the X-Ray SDK and patches
botocore (about 0.25 s of a cold start), for nothing outside Lambda or with tracing turned off.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from contextvars import ContextVar
from functools import cache
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "reco")

# A context variable, not Logger.append_keys: the local server interleaves concurrent requests in
# one thread, and each log line must carry the id of the request that wrote it.
correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


class _CorrelationIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get()
        return True


logger = Logger(service=SERVICE)
logger.addFilter(_CorrelationIdFilter())
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Reco"))

F = TypeVar("F", bound=Callable[..., Any])


def tracing_enabled() -> bool:
    """Powertools' own rule: X-Ray traces inside Lambda (not SAM's or Chalice's emulators) unless turned off."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "yes", "on"):
        return False
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not (
        os.environ.get("AWS_SAM_LOCAL") or os.environ.get("AWS_CHALICE_CLI_MODE")
    )


@cache
def tracer() -> Tracer:
    # The layer calls AWS through botocore only: patching every library X-Ray knows (http.client,
    # sqlite3, requests …) would only import and wrap them.
    return Tracer(service=SERVICE, patch_modules=("botocore",))


def traced_handler(handler: F) -> F:
    """``handler`` under ``Tracer.capture_lambda_handler`` where tracing is on; else ``handler`` itself."""
    if not tracing_enabled():
        return handler
    traced: F = tracer().capture_lambda_handler(capture_response=False)(handler)
    return traced
