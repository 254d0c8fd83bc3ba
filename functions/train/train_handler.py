"""Trains one model version (Lambda function ``TrainFunction``, invoked asynchronously by ModelsFunction).

Event: ``{"tenant": …, "model_id": …, "job_id": …}`` — a :class:`reco.training.service.TrainingJob`.
"""

from __future__ import annotations

from typing import Any

from reco.observability import logger, tracer
from reco.snapstart import register_runtime_hooks
from reco.stores.services import training_services
from reco.training.service import TrainingJob, run_training

# SnapStart: at initialisation, where Lambda looks for hooks (reseed, fresh AWS clients after restore).
register_runtime_hooks()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    job = TrainingJob(tenant=str(event["tenant"]), model_id=str(event["model_id"]), job_id=str(event["job_id"]))
    logger.append_keys(model_id=job.model_id, job_id=job.job_id)
    version = run_training(job, training_services())
    if version is None:
        return {"status": "failed", "model_id": job.model_id, "job_id": job.job_id}
    return {"status": "ready", "model_id": job.model_id, "version": version.version, "metrics": version.metrics}
