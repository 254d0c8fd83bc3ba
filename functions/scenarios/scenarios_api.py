"""Scenarios API: scenarios and default scenarios per reco type (Lambda function ``ScenariosFunction``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import Field

from reco.api import build_app, lambda_handler, require_roles
from reco.identity import Identity, Role
from reco.scenarios.references import ContextReferences
from reco.scenarios.service import (
    delete_scenario,
    get_default,
    get_scenario,
    list_scenarios,
    put_scenario,
    set_default,
    unset_default,
)
from reco.schemas.parameters import METADATA_FILTER_FORM, METADATA_FILTER_MAX_LENGTH, documented
from reco.schemas.scenarios import (
    SCENARIO_NAME_PATTERN,
    DefaultScenario,
    RecoType,
    Scenario,
    ScenarioList,
    ScenarioType,
    ScenarioWritten,
    StoredScenario,
)
from reco.stores.catalog import catalog_store
from reco.stores.contexts import context_store
from reco.stores.scenarios import scenario_store

ROLES = (Role.ROOT, Role.MANAGER, Role.BACKEND)  # "Authorized Roles: root, manager, backend"

Name = Annotated[str, Path(pattern=SCENARIO_NAME_PATTERN, description="Scenario name.")]
COMMON = {
    400: {"description": "WrongData: WRONG_DATA_TYPE / WRONG_OP_USE / WRONG_PARAMETER"},
    401: {"description": "Missing or invalid token"},
    403: {"description": "The token's roles may not do this"},
}
NOT_FOUND = {404: {"description": "NotFoundError: SCENARIO_NOT_FOUND"}}

# Read by reco.scenarios.metadata_filters (a 400 naming the form); the document states the form.
MetadataFilterText = Annotated[
    str, Field(max_length=METADATA_FILTER_MAX_LENGTH), documented(METADATA_FILTER_FORM, METADATA_FILTER_MAX_LENGTH)
]

router = APIRouter(tags=["scenarios"])


@router.get(
    "/scenarios/{reco_type}/{name}/",
    response_model=StoredScenario,
    summary="Get a scenario",
    responses={**COMMON, **NOT_FOUND},
)
async def get_one(
    reco_type: RecoType, name: Name, identity: Identity = Depends(require_roles(*ROLES))
) -> StoredScenario:
    return get_scenario(identity.tenant, reco_type, name, scenario_store())


@router.put(
    "/scenarios/{reco_type}/{name}/",
    response_model=ScenarioWritten,
    summary="Create or replace a scenario (ab_test scenarios cannot be replaced; flows cannot loop)",
    responses=COMMON,
)
async def put_one(
    reco_type: RecoType, name: Name, body: Scenario, identity: Identity = Depends(require_roles(*ROLES))
) -> ScenarioWritten:
    return put_scenario(identity.tenant, reco_type, name, body, scenario_store(), catalog_store())


@router.delete(
    "/scenarios/{reco_type}/{name}/",
    status_code=204,
    response_class=Response,
    summary="Delete a scenario (not while another scenario or a default uses it)",
    responses={**COMMON, **NOT_FOUND},
)
async def delete_one(reco_type: RecoType, name: Name, identity: Identity = Depends(require_roles(*ROLES))) -> Response:
    delete_scenario(identity.tenant, reco_type, name, scenario_store(), ContextReferences(context_store()))
    return Response(status_code=204, media_type="application/json")


@router.get(
    "/scenarios/",
    response_model=ScenarioList,
    summary="List scenarios, filtered by reco type, scenario type and metadata",
    responses=COMMON,
)
async def list_all(
    identity: Identity = Depends(require_roles(*ROLES)),
    amt: Annotated[int, Query(ge=1, le=512, description="Scenarios per page.")] = 64,
    cursor: Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page.")] = None,
    reco_type: Annotated[RecoType | None, Query(description="Only this reco type.")] = None,
    scenario_type: Annotated[ScenarioType | None, Query(description="Only this scenario type.")] = None,
    metadata_filters: Annotated[
        list[MetadataFilterText] | None,
        Query(
            max_length=20,
            description="keys.nested:op:value (op eq/lt/gt/lte/gte, any case; \\. and \\\\ escapes; the value JSON "
            "or plain text, nested at most 32 levels); AND.",
        ),
    ] = None,
) -> ScenarioList:
    return list_scenarios(
        identity.tenant,
        scenario_store(),
        amt=amt,
        cursor=cursor,
        reco_type=reco_type,
        scenario_type=scenario_type,
        metadata_filters=metadata_filters or [],
    )


@router.get(
    "/scenarios-default/{reco_type}/",
    response_model=DefaultScenario,
    summary="Get the default scenario of a reco type",
    responses={**COMMON, **NOT_FOUND},
)
async def get_default_one(reco_type: RecoType, identity: Identity = Depends(require_roles(*ROLES))) -> DefaultScenario:
    return get_default(identity.tenant, reco_type, scenario_store())


@router.patch(
    "/scenarios-default/{reco_type}/",
    status_code=204,
    response_class=Response,
    summary="Set the default scenario of a reco type",
    responses={**COMMON, **NOT_FOUND},
)
async def set_default_one(
    reco_type: RecoType, body: DefaultScenario, identity: Identity = Depends(require_roles(*ROLES))
) -> Response:
    set_default(identity.tenant, reco_type, body.name, scenario_store())
    return Response(status_code=204, media_type="application/json")


@router.delete(
    "/scenarios-default/{reco_type}/",
    status_code=204,
    response_class=Response,
    summary="Unset the default scenario of a reco type",
    responses={**COMMON, **NOT_FOUND},
)
async def unset_default_one(reco_type: RecoType, identity: Identity = Depends(require_roles(*ROLES))) -> Response:
    unset_default(identity.tenant, reco_type, scenario_store())
    return Response(status_code=204, media_type="application/json")


app = build_app(router)
handler = lambda_handler(app)
