"""/v1/items and /v1/users: catalog items and user properties (Lambda function ``CatalogFunction``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from reco.api import build_app, lambda_handler, require_roles
from reco.identity import Identity, Role
from reco.ingestion import find_item, find_user, ingest_items, ingest_users, list_items, remove_item
from reco.schemas.catalog import IngestResponse, ItemPage, ItemResponse, PutItemsRequest, PutUsersRequest, UserResponse
from reco.stores.catalog import catalog_store

# Server-side data routes: a browser token (`frontend`) may neither read nor write the catalog.
CATALOG_ROLES = (Role.ROOT, Role.MANAGER, Role.BACKEND)

ItemId = Annotated[str, Path(min_length=1, max_length=256, description="The item's id.")]
UserId = Annotated[str, Path(min_length=1, max_length=256, description="The user's id.")]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=4096, description="The next_cursor of the previous page.")]
COMMON = {401: {"description": "Missing or invalid token"}, 403: {"description": "The token's roles may not do this"}}
BATCH = {
    **COMMON,
    413: {"description": "Body over 1 MiB"},
    422: {"description": "Not an object of 1 to 1,000 rows (each row is checked on its own: see rejected)"},
}

router = APIRouter(tags=["catalog"])


@router.put(
    "/v1/items",
    response_model=IngestResponse,
    summary="Upsert up to 1,000 items (each row replaces that item's properties)",
    responses=BATCH,
)
async def put_items(
    body: PutItemsRequest, identity: Identity = Depends(require_roles(*CATALOG_ROLES))
) -> IngestResponse:
    return IngestResponse.of(ingest_items(identity.tenant, body.items, catalog_store()))


@router.get(
    "/v1/items",
    response_model=ItemPage,
    summary="List the catalog's items in id order, a page at a time",
    responses={**COMMON, 400: {"description": "Malformed cursor, or a cursor of another list"}},
)
async def get_items(
    limit: Limit = 20, cursor: Cursor = None, identity: Identity = Depends(require_roles(*CATALOG_ROLES))
) -> ItemPage:
    return ItemPage.of(list_items(identity.tenant, catalog_store(), cursor=cursor, limit=limit))


@router.get(
    "/v1/items/{item_id}",
    response_model=ItemResponse,
    summary="One item and its properties",
    responses={**COMMON, 404: {"description": "Unknown item"}},
)
async def get_item(item_id: ItemId, identity: Identity = Depends(require_roles(*CATALOG_ROLES))) -> ItemResponse:
    return ItemResponse.of(find_item(identity.tenant, item_id, catalog_store()))


@router.delete(
    "/v1/items/{item_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an item (trained models keep their own copy until they are retrained)",
    responses={**COMMON, 404: {"description": "Unknown item"}},
)
async def delete_item(item_id: ItemId, identity: Identity = Depends(require_roles(*CATALOG_ROLES))) -> Response:
    remove_item(identity.tenant, item_id, catalog_store())
    return Response(status_code=204, media_type="application/json")


@router.put(
    "/v1/users",
    response_model=IngestResponse,
    summary="Upsert up to 1,000 users' properties (each row replaces that user's properties)",
    responses=BATCH,
)
async def put_users(
    body: PutUsersRequest, identity: Identity = Depends(require_roles(*CATALOG_ROLES))
) -> IngestResponse:
    return IngestResponse.of(ingest_users(identity.tenant, body.users, catalog_store()))


@router.get(
    "/v1/users/{user_id}",
    response_model=UserResponse,
    summary="One user's properties",
    responses={**COMMON, 404: {"description": "Unknown user"}},
)
async def get_user(user_id: UserId, identity: Identity = Depends(require_roles(*CATALOG_ROLES))) -> UserResponse:
    return UserResponse.of(find_user(identity.tenant, user_id, catalog_store()))


app = build_app(router, title="reco catalog")
handler = lambda_handler(app)
