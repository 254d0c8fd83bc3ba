"""Cached boto3 resources. boto3 honours AWS_ENDPOINT_URL, which is how the local runner is reached."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import boto3
from botocore.config import Config

T = TypeVar("T")
_FACTORIES: list[Any] = []


def cached_store(factory: Callable[[], T]) -> Callable[[], T]:
    """A process-wide store (one per container), forgotten by :func:`reset_clients`."""
    cached = lru_cache(maxsize=1)(factory)
    _FACTORIES.append(cached)
    return cached


# The stores build every request from typed records and DynamoDB checks it again: botocore's own
# walk over each parameter cost a third of a batch write's client time (bench: storage section).
DYNAMODB_CONFIG = Config(parameter_validation=False)


@lru_cache(maxsize=1)
def _dynamodb() -> Any:
    return boto3.resource("dynamodb", config=DYNAMODB_CONFIG)


@lru_cache(maxsize=1)
def _s3() -> Any:
    return boto3.client("s3")


def s3_client() -> Any:
    return _s3()


def dynamodb_table(name: str) -> Any:
    return _dynamodb().Table(name)


def tenant_key(tenant: str, *parts: str) -> str:
    """``tenant#part#…``: the tenant pattern forbids '#', so no tenant's keys can spell another's."""
    return "#".join((tenant, *parts))


def reset_clients() -> None:
    """Forget cached clients and stores (tests that start a fresh AWS call this)."""
    _dynamodb.cache_clear()
    _s3.cache_clear()
    for factory in _FACTORIES:
        factory.cache_clear()
