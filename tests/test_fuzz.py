"""The schema fuzzer: every operation of the served OpenAPI document, through the local gateway.

schemathesis reads /openapi.json from the gateway app (the JWT authorizer and routing of
template.yaml in front of every function's router, throttling off) and generates requests for each
operation: the document's examples, boundary values of every schema (its coverage phase) and
random data, valid and invalid (positive and negative modes). Each request is sent twice, with a
root token and with a frontend (browser) token, to an in-memory AWS holding a small trained shop
(tests/shop.py) so that the recommendation routes rank for real. Every answer must hold:

- no 5xx, ever (not_a_server_error);
- the status code, content type, headers and body are the ones the document declares for it
  (status_code_conformance, content_type_conformance, response_headers_conformance,
  response_schema_conformance);
- a request the document calls invalid is refused (negative_data_rejection), and one without a
  token is a 401 (ignored_auth);
- a parameter whose documented form is exact (reco.schemas.parameters) is never refused when
  valid (:func:`exact_parameters_accepted`).

Two built-in checks are off, each for a reason of this API rather than to hide a fault:

- unsupported_method expects 405 for a method the document does not list; API Gateway HTTP APIs
  answer such a request 404 ``{"message": "Not Found"}`` (no route matches), and so does the
  emulation, as clients of the real deployment see it;
- positive_data_acceptance expects every schema-valid request to be accepted; pagination cursors
  are opaque (only a previous page's next_cursor is valid) and bodies have rules across fields
  ("exactly one of item_ids or items") that a JSON schema cannot state. The parameters whose form
  the document does state exactly are held by the narrower check below instead.

And one is off for three operations: PUT /v1/items, PUT /v1/users and POST /v1/events answer a
batch with 200 and a per-row ``rejected`` list (a bad row never fails its batch), so their
negative_data_rejection would flag the documented behaviour.

Bounded for `make test` (FUZZ_EXAMPLES=30 random examples per operation, about two minutes on two
cores); `make fuzz` runs it longer (FUZZ_EXAMPLES=200). The seed is fixed (FUZZ_SEED) so a failure
reproduces; each failure prints the curl command that reproduces it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings
from moto import mock_aws
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance, unsupported_method

from local.aws import provision_resources
from local.composed import gateway_app
from local.tokens import issue_token
from reco.stores.aws import reset_clients
from tests.shop import load_shop

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
SEED = int(os.environ.get("FUZZ_SEED", "20261207"))
TENANT = "fuzz"
# Batch writes: 200 with a per-row `rejected` list, by design (see the module docstring).
BATCH_OPERATIONS = frozenset({"PUT /v1/items", "PUT /v1/users", "POST /v1/events"})
# Parameters whose documented pattern is exact (reco.schemas.parameters): a value that matches it
# is never refused for that parameter.
EXACT_PARAMETERS = frozenset({"context_id", "request_id", "requestId", "metadata_filters"})

CONFIG = schemathesis.Config.from_dict(
    {
        # The tokens are the test's (below): the document's bearer scheme is not generated or mutated.
        "generation": {"with-security-parameters": False, "database": "none"},
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", gateway_app(throttling=False), config=CONFIG)

CALLERS = {
    "root": issue_token(TENANT, ["root"], subject="fuzz-admin", ttl_seconds=6 * 3600),
    "frontend": issue_token(TENANT, ["frontend"], subject="fuzz-shopper", ttl_seconds=6 * 3600),
}


@pytest.fixture(scope="module")
def shop() -> Iterator[None]:
    """One in-memory AWS for the whole run, with the shop's catalog, events and trained model."""
    with mock_aws():
        reset_clients()
        provision_resources()
        load_shop(TENANT)
        yield
    reset_clients()


def _blamed_parameters(body: Any) -> set[str]:
    """The request parameters an error body names: ``data.parameter`` (v1 APIs),
    ``error_data.parameter`` (scenario APIs) and the ``loc`` of validation errors."""
    if not isinstance(body, dict):
        return set()
    named: set[str] = set()
    for holder in (body.get("data"), body.get("error_data")):
        if isinstance(holder, dict) and isinstance(holder.get("parameter"), str):
            named.add(holder["parameter"])
    for errors in (body.get("detail"), body.get("errors"), (body.get("error_data") or {}).get("errors")):
        for error in errors if isinstance(errors, list) else []:
            loc = error.get("loc") if isinstance(error, dict) else None
            if isinstance(loc, list) and len(loc) >= 2 and loc[0] in ("query", "path"):
                named.add(str(loc[1]))
    return named


def exact_parameters_accepted(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """A schema-valid request is not refused for a parameter whose documented form is exact."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code not in (400, 422):
        return None
    sent = set(case.path_parameters or {}) | set(case.query or {})
    try:
        blamed = _blamed_parameters(response.json())
    except ValueError:
        return None
    refused = blamed & sent & EXACT_PARAMETERS
    assert not refused, (
        f"{case.operation.label} refused {sorted(refused)} although the value matches the documented pattern: "
        f"{response.text[:500]}"
    )
    return None


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@seed(SEED)
def test_every_operation_holds_its_contract(case: schemathesis.Case, shop: None) -> None:
    excluded = [unsupported_method, positive_data_acceptance]
    if case.operation.label in BATCH_OPERATIONS:
        excluded.append(negative_data_rejection)
    for token in CALLERS.values():
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            excluded_checks=excluded,
            additional_checks=[exact_parameters_accepted],
        )
