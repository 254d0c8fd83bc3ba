"""Contexts in the configuration table: ``pk = <tenant>#context``, ``sk`` = the id, zero-padded.

Padding to 18 digits makes the sort key order the numeric order (9 before 10), so a listing reads
contexts by number. The document is stored as JSON text: it comes back exactly as written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reco.errors import UnreadableRecord
from reco.schemas.lists import Context
from reco.settings import get_settings
from reco.stores.aws import cached_store, dynamodb_table, tenant_key
from reco.stores.codec import decoded_or_none, query_page

CONTEXT = "context"


def _sort_key(context_id: str) -> str:
    return context_id.zfill(18)


class ContextStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, tenant: str, context_id: str) -> Context | None:
        key = {"pk": tenant_key(tenant, CONTEXT), "sk": _sort_key(context_id)}
        row = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if row is None:
            return None
        context = decoded_or_none(row, _context, "context")
        if context is None:
            raise UnreadableRecord(
                f"context {context_id} is stored in a form this version cannot read; delete it and write it again"
            )
        return context

    def put(self, tenant: str, context: Context) -> None:
        self._table.put_item(
            Item={
                "pk": tenant_key(tenant, CONTEXT),
                "sk": _sort_key(context.id),
                "document": json.dumps(context.model_dump(mode="json"), ensure_ascii=False),
            }
        )

    def delete(self, tenant: str, context_id: str) -> bool:
        key = {"pk": tenant_key(tenant, CONTEXT), "sk": _sort_key(context_id)}
        response = self._table.delete_item(Key=key, ReturnValues="ALL_OLD")
        return "Attributes" in response

    def page(self, tenant: str, limit: int, cursor: str | None) -> tuple[list[Context], str | None]:
        rows, next_cursor = query_page(
            self._table.query, tenant_key(tenant, CONTEXT), limit, cursor, ConsistentRead=True
        )
        contexts = [decoded_or_none(row, _context, "context") for row in rows]
        return [context for context in contexts if context is not None], next_cursor


def _context(row: Mapping[str, Any]) -> Context:
    return Context.model_validate_json(str(row["document"]))


@cached_store
def context_store() -> ContextStore:
    return ContextStore(dynamodb_table(get_settings().config_table))
