"""Conversations in DynamoDB: ``pk = <tenant>#<conversation_id>``, a ``meta`` header and ``turn#<000001>`` rows.

Every row expires ``ttl_days`` after the conversation's last turn (each turn moves the header's and the
earlier turns' ``expires_at`` too); readers skip expired rows, since DynamoDB deletes them lazily. A turn is
written only where no live row holds its number: two concurrent turns cannot take the same one, and a
conversation started afresh under an expired one's id reuses its numbers.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from reco.chat.conversations import Conversation, Turn
from reco.records import iso_millis
from reco.settings import get_settings
from reco.stores.aws import cached_store, dynamodb_table, tenant_key
from reco.stores.codec import error_code

META = "meta"


def _turn_key(number: int) -> str:
    return f"turn#{number:06d}"


class ConversationStore:
    def __init__(self, table: Any, ttl_days: int) -> None:
        self._table = table
        self._ttl_seconds = ttl_days * 86_400

    def get(self, tenant: str, conversation_id: str) -> Conversation | None:
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": tenant_key(tenant, conversation_id)},
            "ConsistentRead": True,
        }
        rows: list[dict[str, Any]] = []
        while True:
            response = self._table.query(**request)
            rows.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        now = time.time()
        live = [r for r in rows if int(r.get("expires_at", 0)) > now]
        header = next((r for r in live if r["sk"] == META), None)
        if header is None:
            return None
        turns = [_turn(r) for r in live if str(r["sk"]).startswith("turn#")]
        return Conversation(
            conversation_id=conversation_id,
            user_id=header.get("user_id"),
            session_id=header.get("session_id"),
            created_at=datetime.fromisoformat(str(header["created_at"]).replace("Z", "+00:00")),
            turns=sorted(turns, key=lambda t: t.number),
            subject=header.get("subject"),
        )

    def append(self, tenant: str, conversation: Conversation, turn: Turn) -> bool:
        now = int(time.time())
        expires_at = now + self._ttl_seconds
        pk = tenant_key(tenant, conversation.conversation_id)
        try:
            self._table.put_item(
                Item=_row(pk, turn, expires_at),
                # An expired row DynamoDB has not deleted yet is no longer a turn: readers skip it too.
                ConditionExpression="attribute_not_exists(sk) OR expires_at <= :now",
                ExpressionAttributeValues={":now": now},
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        header = {
            "pk": pk,
            "sk": META,
            "created_at": iso_millis(conversation.created_at),
            "expires_at": expires_at,
            **{
                name: value
                for name, value in (
                    ("user_id", conversation.user_id),
                    ("session_id", conversation.session_id),
                    ("subject", conversation.subject),
                )
                if value
            },
        }
        self._table.put_item(Item=header)
        # The earlier turns live as long as the conversation: rewritten with the new expiry (in batches of
        # 25), else the oldest would vanish from a conversation that goes on.
        with self._table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for earlier in conversation.turns:
                if earlier.number != turn.number:
                    batch.put_item(Item=_row(pk, earlier, expires_at))
        return True


def _row(pk: str, turn: Turn, expires_at: int) -> dict[str, Any]:
    return {
        "pk": pk,
        "sk": _turn_key(turn.number),
        "number": turn.number,
        # JSON text: constraints and prices round-trip exactly (DynamoDB has no floats).
        "turn": json.dumps(
            {
                "message": turn.message,
                "reply": turn.reply,
                "constraints": dict(turn.constraints),
                "items": list(turn.items),
                "prices": list(turn.prices),
            },
            ensure_ascii=False,
        ),
        "created_at": iso_millis(turn.created_at),
        "expires_at": expires_at,
    }


def _turn(row: dict[str, Any]) -> Turn:
    body = json.loads(str(row["turn"]))
    return Turn(
        number=int(row["number"]),
        message=body["message"],
        reply=body["reply"],
        constraints=body["constraints"],
        items=body["items"],
        prices=body["prices"],
        created_at=datetime.fromisoformat(str(row["created_at"]).replace("Z", "+00:00")).astimezone(UTC),
    )


@cached_store
def conversation_store() -> ConversationStore:
    settings = get_settings()
    return ConversationStore(dynamodb_table(settings.conversations_table), settings.conversation_ttl_days)
