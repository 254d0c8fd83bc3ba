"""Decision logs in DynamoDB: ``pk = <tenant>#<rec_id>``, ``sk = decision``, expiring after the retention."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from reco.decisions import Decision
from reco.observability import logger
from reco.records import iso_millis
from reco.settings import get_settings
from reco.stores.aws import cached_store, dynamodb_table, tenant_key
from reco.stores.codec import error_code, from_dynamo_document, to_dynamo_document


class DecisionStore:
    def __init__(self, table: Any, ttl_days: int) -> None:
        self._table = table
        self._ttl_seconds = ttl_days * 86_400

    def record(self, tenant: str, decision: Decision) -> None:
        now = time.time()
        item = {
            "pk": tenant_key(tenant, decision.rec_id),
            "sk": "decision",
            "endpoint": decision.endpoint,
            "items": decision.items,
            "scores": to_dynamo_document([round(s, 6) for s in decision.scores]),
            # A JSON string: DynamoDB numbers hold 38 digits and 1e-130..1e126, JSON's do not.
            "context": json.dumps(decision.context, ensure_ascii=False),
            "created_at": iso_millis(datetime.fromtimestamp(now, UTC)),
            "expires_at": int(now) + self._ttl_seconds,
        }
        optional = {
            "user_id": decision.user_id,
            "session_id": decision.session_id,
            "model_id": decision.model_id,
            "model_version": decision.model_version,
            "fallback": decision.fallback,
            "request_id": decision.request_id,
            "anonymous_id": decision.anonymous_id,
        }
        item.update({k: v for k, v in optional.items() if v is not None})
        try:
            # The first list served under an id stays: a client reusing a request id (or one shaped
            # like another endpoint's rec_id) cannot rewrite what an earlier event is attributed to.
            self._table.put_item(
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                ExpressionAttributeValues={":now": int(now)},
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                logger.info("a decision with this id exists: the first is kept", extra={"rec_id": decision.rec_id})
                return
            self._warn(decision, error)
        except ArithmeticError as error:
            self._warn(decision, error)

    @staticmethod
    def _warn(decision: Decision, error: Exception) -> None:
        # The list is computed and the caller waits for it: a decision the table refused is
        # logged (with everything needed to replay it), not turned into a failed request.
        logger.warning(
            "decision not recorded",
            extra={"rec_id": decision.rec_id, "error": str(error), "decision": asdict(decision)},
        )

    def get(self, tenant: str, rec_id: str) -> dict[str, Any] | None:
        """The decision behind ``rec_id``, unless it expired (DynamoDB deletes expired rows lazily)."""
        item = self._table.get_item(Key={"pk": tenant_key(tenant, rec_id), "sk": "decision"}).get("Item")
        if item is None or int(item.get("expires_at", 0)) <= time.time():
            return None
        found = dict(from_dynamo_document(item))
        found["context"] = json.loads(found.get("context") or "{}")
        return found


@cached_store
def decision_store() -> DecisionStore:
    settings = get_settings()
    return DecisionStore(dynamodb_table(settings.decisions_table), settings.decision_log_ttl_days)
