"""Contexts: named, saved configurations of a recommendation list (scenario, filters, grouping, exclusions).

A context is what an application's placement ("home page", "product page") asks for by number; the
request then only says who the list is for. Writes are checked here (filters parse, a scenario that
does not exist yet is a warning, since scenarios may be written afterwards; until then the context's
lists run without it). A scenario a context names cannot be deleted
(:class:`reco.scenarios.references.ContextReferences`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from reco.errors import ContextNotFound
from reco.lists.filters import ListFilter, check_filter_count, parse_filter, parse_scope_filters
from reco.records import iso_millis
from reco.schemas.lists import Context, ContextBody, ContextList, ContextWritten


class ContextRepository(Protocol):
    def get(self, tenant: str, context_id: str) -> Context | None: ...

    def put(self, tenant: str, context: Context) -> None: ...

    def delete(self, tenant: str, context_id: str) -> bool: ...

    def page(self, tenant: str, limit: int, cursor: str | None) -> tuple[list[Context], str | None]: ...


class ScenarioNames(Protocol):
    def get(self, tenant: str, reco_type: str, name: str) -> Any: ...


@dataclass(frozen=True)
class ContextServices:
    contexts: ContextRepository
    scenarios: ScenarioNames


def reco_type_of(entity_type: str) -> str:
    return "item_to_items" if entity_type == "Item" else "profile_to_items"


def context_filters(context: ContextBody) -> list[ListFilter]:
    """The context's default filters, parsed (shorthand strings and scope objects alike)."""
    filters: list[ListFilter] = []
    for rule in context.filters:
        if isinstance(rule, str):
            filters.append(parse_filter(rule, source="context"))
        else:
            filters.extend(parse_scope_filters([rule], source="context"))
    return filters


def put_context(
    tenant: str, context_id: str, body: ContextBody, services: ContextServices, now: datetime
) -> ContextWritten:
    check_filter_count(context_filters(body))
    warnings: list[str] = []
    if body.scenario is not None:
        reco_type = reco_type_of(body.entity_type)
        if services.scenarios.get(tenant, reco_type, body.scenario) is None:
            warnings.append(
                f"scenario '{body.scenario}' ({reco_type}) does not exist yet: lists of this context run "
                "without it (with a warning) until it is created"
            )
    previous = services.contexts.get(tenant, context_id)
    stamp = iso_millis(now)
    context = Context(
        **body.model_dump(),
        id=context_id,
        created_at=previous.created_at if previous is not None else stamp,
        updated_at=stamp,
    )
    services.contexts.put(tenant, context)
    return ContextWritten(**context.model_dump(), warnings=warnings)


def get_context(tenant: str, context_id: str, services: ContextServices) -> Context:
    context = services.contexts.get(tenant, context_id)
    if context is None:
        raise ContextNotFound(
            f"context {context_id} is not configured: PUT /v1/contexts/{context_id} first",
            data={"context_id": context_id},
        )
    return context


def delete_context(tenant: str, context_id: str, services: ContextServices) -> None:
    if not services.contexts.delete(tenant, context_id):
        raise ContextNotFound(f"context {context_id} is not configured", data={"context_id": context_id})


def list_contexts(tenant: str, limit: int, cursor: str | None, services: ContextServices) -> ContextList:
    contexts, next_cursor = services.contexts.page(tenant, limit, cursor)
    return ContextList(data=contexts, has_more=next_cursor is not None, next_cursor=next_cursor)
