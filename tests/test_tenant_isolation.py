"""Tenant A can neither read nor overwrite tenant B's data through any route that exists.

Every route in template.yaml must have an isolation case here: adding a route without one fails.
"""

from __future__ import annotations

from collections.abc import Callable

import boto3
from fastapi.testclient import TestClient

from local.template import routes
from reco.registry import ModelRecord
from reco.stores.models import model_registry
from tests.isolation.catalog import CATALOG_CASES
from tests.isolation.chat import CHAT_CASES
from tests.isolation.customer import CUSTOMER_CASES
from tests.isolation.lists import LISTS_CASES
from tests.isolation.models import MODEL_CASES
from tests.isolation.scenarios import SCENARIO_CASES

Auth = Callable[..., dict[str, str]]


def recommend_isolation(client: TestClient, auth: Auth) -> None:
    """A's model registry entry is invisible to B; B's writes land under B; no header or body reaches A."""
    registry = model_registry()
    registry.put("tenant-a", ModelRecord("shared-name", "als", status="untrained"))
    body = {"user_id": "u1", "item_ids": ["x"], "model_id": "shared-name"}

    as_a = client.post("/v1/recommend", json=body, headers=auth("tenant-a", "backend"))
    assert as_a.status_code == 503  # A sees its own (untrained) model
    as_b = client.post("/v1/recommend", json=body, headers=auth("tenant-b", "backend"))
    assert as_b.status_code == 404  # B does not see A's
    assert as_b.json()["detail"] == "model not found: 'shared-name'"

    # Nothing in a request can name another tenant: not a header, not a body field.
    smuggled = client.post("/v1/recommend", json=body, headers={**auth("tenant-b", "backend"), "X-Tenant": "tenant-a"})
    assert smuggled.status_code == 404
    in_body = client.post("/v1/recommend", json={**body, "tenant": "tenant-a"}, headers=auth("tenant-b", "backend"))
    assert in_body.status_code == 422
    forged_key = client.post("/v1/recommend", json=body, headers=auth("tenant-a#model", "backend"))
    assert forged_key.status_code == 401  # not a tenant id: the token names no tenant

    # B writing the same model id creates B's own record and leaves A's untouched.
    registry.put("tenant-b", ModelRecord("shared-name", "ease", status="ready", current_version=3))
    a_record, b_record = registry.get("tenant-a", "shared-name"), registry.get("tenant-b", "shared-name")
    assert (a_record.recipe, a_record.status, a_record.current_version) == ("als", "untrained", None)  # type: ignore[union-attr]
    assert (b_record.recipe, b_record.current_version) == ("ease", 3)  # type: ignore[union-attr]
    keys = {item["pk"] for item in boto3.resource("dynamodb").Table("ConfigTable").scan()["Items"]}
    assert {k for k in keys if k.endswith("#model")} == {"tenant-a#model", "tenant-b#model"}


ISOLATION_CASES: dict[tuple[str, str], Callable[[TestClient, Auth], None]] = {
    ("POST", "/v1/recommend"): recommend_isolation,
    **CATALOG_CASES,
    **CHAT_CASES,
    **CUSTOMER_CASES,
    **MODEL_CASES,
    **SCENARIO_CASES,
    **LISTS_CASES,
}


def test_every_route_has_an_isolation_case() -> None:
    assert set(ISOLATION_CASES) == {(r.method, r.path) for r in routes()}


def test_tenants_are_isolated_on_every_route(client: TestClient, auth: Auth) -> None:
    for case in dict.fromkeys(ISOLATION_CASES.values()):  # a case may cover several routes
        case(client, auth)
