"""Edge cases found in review: each once caused a 500, lost data, or a wrong ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pydantic import ValidationError

from reco.decisions import Decision
from reco.errors import ServiceUnavailable
from reco.event_weights import MAX_EVENT_WEIGHT, event_weight
from reco.records import Event
from reco.registry import ModelRecord
from reco.schemas.ranking import MAX_CONTEXT_BYTES, RecommendRequest
from reco.services.launcher import training_launcher
from reco.services.serving import model_cache
from reco.services.training import training_services
from reco.stores.decisions import DecisionStore, decision_store
from reco.stores.events import EventStore, event_store
from reco.stores.models import model_registry
from reco.training.requests import TrainingJob, request_training
from reco.training.service import run_training

pytestmark = pytest.mark.store_contract  # against moto and the local store

BASE = {"user_id": "u1", "item_ids": ["a"], "model_id": "m"}


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"pad": "x" * MAX_CONTEXT_BYTES}, "at most 16384 are accepted"),
        ({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}, "nested more than 8 levels deep"),
    ],
)
def test_context_is_bounded(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RecommendRequest.model_validate({**BASE, "context": context})


def test_any_json_number_in_the_context_is_kept_exactly(aws: dict[str, str]) -> None:
    context = {"big": 1e200, "long": 10**40, "tiny": 1e-300}
    decision_store().record("acme", Decision("rec_1", "POST /v1/recommend", ["a"], [0.5], context=context))
    stored = decision_store().get("acme", "rec_1")
    assert stored is not None and stored["context"] == context


def test_a_refused_decision_is_logged_not_raised() -> None:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table("DecisionsTable")
    with Stubber(table.meta.client) as stub:
        stub.add_client_error("put_item", "ProvisionedThroughputExceededException")
        DecisionStore(table, ttl_days=1).record("acme", Decision("rec_2", "POST /v1/recommend", ["a"], [0.1]))
        stub.assert_no_pending_responses()


class RecordingTable:
    """Enough of a boto3 Table for EventStore.load_events, recording the order of writes."""

    name = "EventsTable"

    def __init__(self) -> None:
        self.puts: list[str] = []
        self.meta = self
        self.client = self

    def batch_get_item(self, **_: Any) -> dict[str, Any]:
        return {"Responses": {}}

    def update_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def batch_writer(self, **_: Any) -> RecordingTable:
        return self

    def __enter__(self) -> RecordingTable:
        return self

    def __exit__(self, *_: Any) -> None:
        self.puts.append("flush")

    def put_item(self, Item: dict[str, Any]) -> None:
        self.puts.append(str(Item["pk"]).split("#")[1])


def test_bulk_imports_write_markers_only_after_every_copy() -> None:
    table = RecordingTable()
    now = datetime.now(UTC)
    events = [Event(f"e{n}", "i", "view", now, "u", "s") for n in range(3)]
    assert EventStore(table, ttl_days=30).load_events("t", events).accepted == 3
    first_marker = table.puts.index("event")
    assert table.puts[:first_marker] == ["user", "session"] * 3 + ["flush"]
    assert table.puts[first_marker:] == ["event"] * 3 + ["flush"]


def test_huge_event_values_are_clipped() -> None:
    weights = {"rating": {"weight": 1.0, "use_value": True}}
    assert event_weight("rating", 1e100, weights) == MAX_EVENT_WEIGHT
    assert event_weight("rating", -5.0, weights) == 0.0
    assert event_weight("rating", 4.0, weights) == 4.0


def seed(tenant: str = "acme", future_hours: float = 0) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    events = [Event(f"e{n}", f"i{n % 3}", "view", now - timedelta(hours=n), f"u{n % 2}") for n in range(6)]
    events.append(Event("late", "i0", "view", now + timedelta(hours=future_hours), "u0"))
    assert event_store().put_events(tenant, events).accepted == 7
    model_registry().define(tenant, ModelRecord("m", "popularity", event_weights={"*": 1.0}))


class FailingLauncher:
    def launch(self, job: TrainingJob) -> None:
        raise RuntimeError("TooManyRequestsException: Rate exceeded")


def test_a_launch_that_fails_releases_the_model(aws: dict[str, str]) -> None:
    seed()
    with pytest.raises(ServiceUnavailable, match="retry in a few seconds"):
        request_training("acme", "m", model_registry(), event_store(), FailingLauncher())
    record = model_registry().get("acme", "m")
    assert record is not None and record.status == "failed"
    assert "Rate exceeded" in str(record.reason)


def test_a_run_that_never_reported_back_shows_as_failed(aws: dict[str, str], client: Any, auth: Any) -> None:
    seed()
    model_registry().start_training("acme", "m", "lost-job", stale_after_seconds=0)
    table = boto3.resource("dynamodb").Table("ConfigTable")
    long_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    table.update_item(
        Key={"pk": "acme#model", "sk": "m"},
        UpdateExpression="SET training_started_at = :t",
        ExpressionAttributeValues={":t": long_ago},
    )
    body = client.get("/v1/models/m", headers=auth("acme", "backend")).json()
    assert body["status"] == "failed" and "did not finish within 16 minutes" in body["reason"]
    assert client.post("/v1/models/m/train", headers=auth("acme", "backend")).status_code == 202  # may restart
    training_launcher().wait()  # type: ignore[attr-defined]
    assert model_registry().get("acme", "m").status == "ready"  # type: ignore[union-attr]


def test_future_stamped_events_do_not_hide_newer_ones_from_fold_in(aws: dict[str, str]) -> None:
    seed(future_hours=20)
    model_registry().start_training("acme", "m", "job", stale_after_seconds=0)
    started = datetime.now(UTC).timestamp()
    assert run_training(TrainingJob("acme", "m", "job"), training_services()) is not None
    artifact = model_cache().current("acme", "m").artifact
    assert float(artifact.metadata["data_until"]) <= started + 5
