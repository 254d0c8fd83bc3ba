"""Cached boto3 resources. boto3 honours AWS_ENDPOINT_URL, which is how the local runner is reached."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3


@lru_cache(maxsize=1)
def _dynamodb() -> Any:
    return boto3.resource("dynamodb")


def dynamodb_table(name: str) -> Any:
    return _dynamodb().Table(name)


def tenant_key(tenant: str, *parts: str) -> str:
    """``tenant#part#…``: the tenant pattern forbids '#', so no tenant's keys can spell another's."""
    return "#".join((tenant, *parts))


def reset_clients() -> None:
    """Forget cached clients (tests that start a fresh in-memory AWS call this)."""
    _dynamodb.cache_clear()
