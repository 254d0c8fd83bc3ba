"""In-memory stand-ins for the stores the request benches run on (no moto, no AWS)."""

from __future__ import annotations

from collections.abc import Sequence

from reco.decisions import Decision
from reco.models.artifact import ModelArtifact
from reco.records import Event, Page
from reco.registry import ModelRecord
from reco.schemas.scenarios import Scenario
from reco.serving.attributes import parse_rules
from reco.serving.cache import ServingModel


class OneModel:
    """ModelCache: one warm model, as a container serves between registry checks."""

    def __init__(self, artifact: ModelArtifact, version: int = 1) -> None:
        record = ModelRecord(
            "als-main", "als", status="ready", current_version=version, updated_at="2026-01-01T00:00:00Z"
        )
        self.model = ServingModel(record, version, artifact, parse_rules({}))

    def serving(self, tenant: str, allowlist: Sequence[str] | None = None) -> ServingModel:
        return self.model


class UserEvents:
    """EventReader: one user's stored events (newest first); nobody else has any."""

    def __init__(self, user: str, events: list[Event]) -> None:
        self.user, self.events = user, events

    def recent_page(
        self, tenant: str, *, user_id: str | None = None, session_id: str | None = None, limit: int = 50
    ) -> Page[Event]:
        return Page(self.events[:limit] if user_id == self.user else [])


class NoScenarios:
    def get(self, tenant: str, reco_type: str, name: str) -> Scenario | None:
        return None

    def default_name(self, tenant: str, reco_type: str) -> str | None:
        return None


class DroppedDecisions:
    def record(self, tenant: str, decision: Decision) -> None:
        pass
