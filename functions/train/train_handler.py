"""Trains one model version (Lambda function ``TrainFunction``, invoked asynchronously by ModelsFunction).

Event: ``{"tenant": …, "model_id": …, "job_id": …}`` — a :class:`reco.training.requests.TrainingJob`.
"""

from __future__ import annotations

from typing import Any

from reco.observability import logger, traced_handler
from reco.services.training import training_services
from reco.snapstart import register_runtime_hooks
from reco.training.requests import TrainingJob
from reco.training.service import run_training

# SnapStart: at initialisation, where Lambda looks for hooks (reseed, fresh AWS clients after restore).
register_runtime_hooks()


@logger.inject_lambda_context(clear_state=True)
@traced_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    job = TrainingJob(tenant=str(event["tenant"]), model_id=str(event["model_id"]), job_id=str(event["job_id"]))
    logger.append_keys(model_id=job.model_id, job_id=job.job_id)
    version = run_training(job, training_services())
    if version is None:
        return {"status": "failed", "model_id": job.model_id, "job_id": job.job_id}
    return {"status": "ready", "model_id": job.model_id, "version": version.version, "metrics": version.metrics}
