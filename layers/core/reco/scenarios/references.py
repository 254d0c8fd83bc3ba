"""Who uses a scenario: the contexts that name it (a scenario in use cannot be deleted).

Here rather than in ``reco.lists``, so that the scenarios function reads contexts without loading the
list endpoint's filter grammar and ranking.
"""

from __future__ import annotations

from typing import Protocol

from reco.schemas.lists import Context

# The reco types a context's scenario runs under: a User context's lists are a session's when the
# visitor has no user id.
CONTEXT_RECO_TYPES = {"Item": ("item_to_items",), "User": ("profile_to_items", "session_to_items")}
CONTEXTS_READ = 100  # contexts read per page when looking for the ones that name a scenario


class ContextPages(Protocol):
    def page(self, tenant: str, limit: int, cursor: str | None) -> tuple[list[Context], str | None]: ...


class ContextReferences:
    """The contexts that name a scenario: what makes it in use for the scenario service."""

    def __init__(self, contexts: ContextPages) -> None:
        self._contexts = contexts

    def users_of(self, tenant: str, reco_type: str, name: str) -> list[str]:
        users: list[str] = []
        cursor: str | None = None
        while True:
            page, cursor = self._contexts.page(tenant, CONTEXTS_READ, cursor)
            users += [
                f"context {context.id}"
                for context in page
                if context.scenario == name and reco_type in CONTEXT_RECO_TYPES[context.entity_type]
            ]
            if cursor is None:
                return users
