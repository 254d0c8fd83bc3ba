"""Request logs of POST /api/recommend/recommend in the DecisionsTable, one partition per tenant and UTC day.

``pk = <tenant>#request-log#<YYYY-MM-DD>``, ``sk = <ISO-8601 UTC ms>#<request_id>#<sequence|decision>``;
attributes ``kind``, ``request_id``, ``created_at``, ``expires_at`` (epoch seconds, the table's TTL)
and ``data``: the row's JSON object as JSON text (so any JSON round-trips exactly, numbers too),
or, beyond ``MAX_DATA_BYTES``, zlib-compressed JSON in the binary attribute ``data_zlib``.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from botocore.exceptions import ClientError

from reco.customer.logs import RequestLog, log_day
from reco.errors import PayloadTooLarge
from reco.observability import logger
from reco.schemas.customer import LogKind
from reco.settings import get_settings
from reco.stores.aws import cached_store, dynamodb_table, tenant_key

# A DynamoDB item holds at most 400 KB: the rest of a row is small.
MAX_DATA_BYTES = 350_000


class RequestLogStore:
    def __init__(self, table: Any, ttl_days: int) -> None:
        self._table = table
        self._ttl = timedelta(days=ttl_days)

    def write(self, tenant: str, log: RequestLog) -> None:
        """Store one row; a row too large even compressed is the caller's 413, a refused write only a warning."""
        item: dict[str, Any] = {
            "pk": tenant_key(tenant, "request-log", log_day(log.created_at)),
            "sk": log.sort_key,
            "kind": log.kind,
            "request_id": log.request_id,
            "created_at": log.sort_key.split("#", 1)[0],
            "expires_at": int((log.created_at + self._ttl).timestamp()),
            **_encoded(log),
        }
        try:
            self._table.put_item(Item=item)
        except ClientError as error:
            # Like decisions: the caller waits for recommendations, not for the analytics row.
            logger.warning("request log not recorded", extra={"error": str(error), "log": asdict(log)})

    def read_day(
        self,
        tenant: str,
        day: str,
        *,
        low: str,
        high: str,
        kind: str | None,
        limit: int,
        start_after: str | None,
        now: datetime,
    ) -> tuple[list[RequestLog], str | None]:
        pk = tenant_key(tenant, "request-log", day)
        # moto (and DynamoDB, for up to days) still returns expired rows: they are filtered out here.
        condition: ConditionBase = Attr("expires_at").gt(int(now.timestamp()))
        if kind is not None:
            condition = condition & Attr("kind").eq(kind)
        params: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(pk) & Key("sk").between(low, high),
            "FilterExpression": condition,
            "ScanIndexForward": False,
            "Limit": max(limit, 1),
        }
        if start_after is not None:
            params["ExclusiveStartKey"] = {"pk": pk, "sk": start_after}
        response = self._table.query(**params)
        rows = [_decoded(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return rows, str(last["sk"]) if last else None


def _encoded(log: RequestLog) -> dict[str, Any]:
    text = json.dumps(log.data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    raw = text.encode("utf-8")
    if len(raw) <= MAX_DATA_BYTES:
        return {"data": text}
    packed = zlib.compress(raw, level=6)
    if len(packed) > MAX_DATA_BYTES:
        raise PayloadTooLarge(
            f"the request cannot be logged: its data is {len(raw)} bytes of JSON ({len(packed)} compressed; "
            f"at most {MAX_DATA_BYTES}): send less context in sequence_data"
        )
    return {"data_zlib": packed}


def _decoded(item: dict[str, Any]) -> RequestLog:
    if "data_zlib" in item:
        blob = item["data_zlib"]
        text = zlib.decompress(getattr(blob, "value", blob)).decode("utf-8")
    else:
        text = str(item.get("data") or "{}")
    created_at = datetime.strptime(str(item["created_at"]), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    kind = cast(LogKind, str(item["kind"]))
    return RequestLog(kind, str(item["request_id"]), created_at, json.loads(text))


@cached_store
def request_log_store() -> RequestLogStore:
    settings = get_settings()
    return RequestLogStore(dynamodb_table(settings.decisions_table), settings.request_log_ttl_days)
