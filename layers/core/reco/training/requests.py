"""Training requests: check that a model can train, mark it training, and start the run elsewhere.

Apart from :mod:`reco.training.service` (the run itself), so that the models function, which only
starts runs, loads none of the fitting, tuning and evaluation code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from reco.errors import ModelNotFound, NoTrainingData, ServiceUnavailable
from reco.ids import ksuid
from reco.observability import logger
from reco.records import Event
from reco.registry import ModelRegistry

# A run that has not finished after this long is presumed dead (the train function's timeout is 900 s).
TRAINING_STALE_SECONDS = 960.0


@dataclass(frozen=True)
class TrainingJob:
    tenant: str
    model_id: str
    job_id: str


class EventSource(Protocol):
    def has_events(self, tenant: str) -> bool: ...

    def iter_events(self, tenant: str) -> Iterator[Event]: ...


class TrainingLauncher(Protocol):
    """Starts :func:`reco.training.service.run_training` elsewhere: the train function in AWS, a thread locally."""

    def launch(self, job: TrainingJob) -> None: ...


def request_training(
    tenant: str, model_id: str, registry: ModelRegistry, events: EventSource, launcher: TrainingLauncher
) -> TrainingJob:
    """Check that training can start, mark the model as training, and launch the run."""
    if registry.get(tenant, model_id) is None:
        raise ModelNotFound(f"model not found: '{model_id}'", data={"model_id": model_id})
    if not events.has_events(tenant):
        raise NoTrainingData("this tenant has no events to train on yet: send interactions to POST /v1/events first")
    job = TrainingJob(tenant, model_id, ksuid())
    registry.start_training(tenant, model_id, job.job_id, TRAINING_STALE_SECONDS)
    try:
        launcher.launch(job)
    except Exception as error:  # the launcher's own (AWS) errors: release the model, answer 503
        logger.exception("training launch failed", extra={"model_id": model_id, "job_id": job.job_id})
        registry.fail(tenant, model_id, job.job_id, f"the training run could not be started: {error}")
        raise ServiceUnavailable("the training run could not be started; retry in a few seconds") from None
    logger.info("training requested", extra={"model_id": model_id, "job_id": job.job_id})
    return job
