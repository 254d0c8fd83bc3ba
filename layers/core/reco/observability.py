"""Powertools singletons (one Logger, Metrics and Tracer per process) and the request correlation id."""

from __future__ import annotations

import logging
import os
from contextvars import ContextVar

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
tracer = Tracer(service=SERVICE)
