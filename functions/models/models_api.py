"""/v1/models: model definitions, the registry, and training requests (Lambda function ``ModelsFunction``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from reco.api import build_app, lambda_handler, require_roles
from reco.identity import Identity, Role
from reco.model_definitions import define_model, describe_model, list_models
from reco.schemas.models import MODEL_ID_PATTERN, ModelDefinition, ModelList, ModelView, TrainingAccepted
from reco.services.launcher import training_launcher
from reco.stores.events import event_store
from reco.stores.models import model_registry
from reco.training.requests import request_training

# Defining a model changes what every user sees: configuration roles only. A backend may read
# models and trigger retraining (e.g. a nightly job).
DEFINE_ROLES = (Role.ROOT, Role.MANAGER)
READ_ROLES = (Role.ROOT, Role.MANAGER, Role.BACKEND)

ModelId = Annotated[str, Path(pattern=MODEL_ID_PATTERN, description="Letters, digits, '.', '_', '-' (≤ 128).")]
COMMON = {401: {"description": "Missing or invalid token"}, 403: {"description": "The token's roles may not do this"}}

router = APIRouter(tags=["models"])


@router.put(
    "/v1/models/{model_id}",
    response_model=ModelView,
    summary="Define (or redefine) a model: recipe, hyper-parameters, event weights, attribute rules",
    responses={**COMMON, 400: {"description": "Reserved model id"}},
)
async def put_model(
    model_id: ModelId, body: ModelDefinition, identity: Identity = Depends(require_roles(*DEFINE_ROLES))
) -> ModelView:
    return define_model(identity.tenant, model_id, body, model_registry())


@router.get(
    "/v1/models",
    response_model=ModelList,
    summary="List the tenant's models",
    responses={**COMMON, 400: {"description": "Malformed cursor"}},
)
async def get_models(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    identity: Identity = Depends(require_roles(*READ_ROLES)),
) -> ModelList:
    return list_models(identity.tenant, model_registry(), limit, cursor)


@router.get(
    "/v1/models/{model_id}",
    response_model=ModelView,
    summary="A model's definition, status, versions and training metrics",
    responses={**COMMON, 404: {"description": "Unknown model"}},
)
async def get_model(model_id: ModelId, identity: Identity = Depends(require_roles(*READ_ROLES))) -> ModelView:
    return describe_model(identity.tenant, model_id, model_registry())


@router.post(
    "/v1/models/{model_id}/train",
    status_code=202,
    response_model=TrainingAccepted,
    summary="Start training a new version (asynchronous: poll GET /v1/models/{model_id})",
    responses={
        **COMMON,
        404: {"description": "Unknown model"},
        409: {"description": "No events to train on, or a training run is already in progress"},
    },
)
async def train_model(model_id: ModelId, identity: Identity = Depends(require_roles(*READ_ROLES))) -> TrainingAccepted:
    job = request_training(identity.tenant, model_id, model_registry(), event_store(), training_launcher())
    return TrainingAccepted(model_id=model_id, job_id=job.job_id)


app = build_app(router, title="reco models")
handler = lambda_handler(app)
