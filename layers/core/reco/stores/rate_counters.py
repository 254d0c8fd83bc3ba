"""Each tenant's request counter per route and window in DynamoDB: ``pk = <tenant>#requests#<route>``,
``sk = <window>``, one conditional ``UpdateItem`` per request, expiring with ``expires_at``.

Shared by every Lambda container, so the share holds however many containers serve the tenant.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from reco.observability import logger
from reco.settings import get_settings
from reco.stores.aws import cached_store, tenant_key
from reco.stores.codec import RETRYABLE_ERRORS, error_code
from reco.tenant_share import CounterUnavailable, TenantLimiter, TenantShare

# One attempt and a short wait: a limiter that retried a throttled counter would slow every request
# down exactly when the table is busiest. It fails open instead (reco.tenant_share).
COUNTER_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 1}, connect_timeout=1, read_timeout=1, parameter_validation=False
)


class DynamoDbWindowCounter:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def take(self, tenant: str, route: str, window: int, limit: int, expires_at: int) -> bool:
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": tenant_key(tenant, "requests", route)}, "sk": {"S": str(window)}},
                UpdateExpression="ADD #count :one SET #expires = if_not_exists(#expires, :expires)",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "requests", "#expires": "expires_at"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str(expires_at)},
                },
            )
        except ClientError as error:
            code = error_code(error)
            if code == "ConditionalCheckFailedException":
                return False
            if code not in RETRYABLE_ERRORS:  # not "not now": a missing table or a missing grant, say so loudly
                logger.error("tenant request counter failed", extra={"error_code": code, "table": self._table_name})
            raise CounterUnavailable(code or str(error)) from error
        except BotoCoreError as error:  # timeouts, connection errors
            raise CounterUnavailable(type(error).__name__) from error
        return True


@cached_store
def tenant_limiter() -> TenantLimiter | None:
    """The container's limiter, or None where the template sets no tenant share (TENANT_RATE_LIMIT=0)."""
    settings = get_settings()
    if settings.tenant_rate_limit <= 0 or settings.tenant_burst_limit < 1:
        return None
    client = boto3.client("dynamodb", config=COUNTER_CLIENT_CONFIG)
    share = TenantShare(settings.tenant_rate_limit, settings.tenant_burst_limit)
    return TenantLimiter(share, DynamoDbWindowCounter(client, settings.rate_counters_table))
