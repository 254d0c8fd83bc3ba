"""Training runs end to end on moto and the local store: the train function, the launcher, conditional publishing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from reco.errors import StaleTrainingJob
from reco.records import Event
from reco.registry import ModelRecord, ModelVersion
from reco.stores.events import event_store
from reco.stores.launchers import LambdaTrainingLauncher
from reco.stores.models import model_registry
from reco.training.requests import TrainingJob
from tests.conftest import EVENTS_DIR, LambdaContext

pytestmark = pytest.mark.store_contract  # against moto and the local store


def seed(tenant: str = "acme") -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    events = [Event(f"e{n}", f"i{n % 3}", "purchase", now, f"u{n % 2}") for n in range(9)]
    assert event_store().put_events(tenant, events).accepted == 9
    model_registry().define(tenant, ModelRecord("m", "popularity", event_weights={"*": 1.0}))


def test_the_train_function_publishes_a_version(aws: dict[str, str], lambda_context: LambdaContext) -> None:
    from train_handler import handler

    seed()
    model_registry().start_training("acme", "m", "job-1", stale_after_seconds=0)
    event = json.loads((EVENTS_DIR / "invoke/train-model.json").read_text())  # the sam local invoke sample
    assert set(event) == {"tenant", "model_id", "job_id"}
    result = handler({"tenant": "acme", "model_id": "m", "job_id": "job-1"}, lambda_context)
    assert (result["status"], result["version"]) == ("ready", 1)
    assert result["metrics"]["n_events"] == 9
    stored = boto3.client("s3").list_objects_v2(Bucket=aws["ArtifactsBucket"])["Contents"]
    assert [o["Key"] for o in stored] == ["acme/models/m/v1.npz"]
    assert model_registry().get("acme", "m").current_version == 1  # type: ignore[union-attr]


def test_a_run_that_lost_the_model_to_a_newer_one_does_not_publish(aws: dict[str, str]) -> None:
    seed()
    registry = model_registry()
    registry.start_training("acme", "m", "old-job", stale_after_seconds=0)
    registry.start_training("acme", "m", "new-job", stale_after_seconds=0)
    with pytest.raises(StaleTrainingJob):
        registry.publish("acme", "m", "old-job", ModelVersion(1, "acme/models/m/v1.npz", "2026-11-25T00:00:00Z"))
    record = registry.get("acme", "m")
    assert (record.status, record.current_version) == ("training", None)  # type: ignore[union-attr]
    assert registry.versions("acme", "m") == []  # the version row and the move are one transaction
    registry.fail("acme", "m", "old-job", "late failure")  # ignored: new-job owns the model
    assert registry.get("acme", "m").status == "training"  # type: ignore[union-attr]


def test_versions_only_move_forward(aws: dict[str, str]) -> None:
    seed()
    registry = model_registry()
    registry.start_training("acme", "m", "job", stale_after_seconds=0)
    registry.publish("acme", "m", "job", ModelVersion(2, "k2", "2026-11-25T00:00:00Z"))
    with pytest.raises(StaleTrainingJob):
        registry.publish("acme", "m", "job", ModelVersion(1, "k1", "2026-11-25T00:00:00Z"))
    assert registry.get("acme", "m").current_version == 2  # type: ignore[union-attr]


def test_the_lambda_launcher_invokes_the_train_function_asynchronously() -> None:
    client = boto3.client("lambda", region_name="us-east-1")
    job = TrainingJob("acme", "m", "job-9")
    with Stubber(client) as stub:
        stub.add_response(
            "invoke",
            {"StatusCode": 202},
            {
                "FunctionName": "reco-TrainFunction",
                "InvocationType": "Event",
                "Payload": json.dumps({"tenant": "acme", "model_id": "m", "job_id": "job-9"}).encode(),
            },
        )
        LambdaTrainingLauncher(client, "reco-TrainFunction").launch(job)
        stub.assert_no_pending_responses()
