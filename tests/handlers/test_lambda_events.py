"""Each function's Lambda handler, invoked with its events/ sample through Mangum, as AWS would."""

from __future__ import annotations

import base64
import importlib
import json
from typing import Any

import pytest

from local.template import functions, routes
from reco.services.launcher import training_launcher
from tests.conftest import EVENTS_DIR, LambdaContext, load_event
from tests.handlers.seeds_catalog import CATALOG_SEEDS
from tests.handlers.seeds_chat import CHAT_SEEDS
from tests.handlers.seeds_customer import CUSTOMER_SEEDS
from tests.handlers.seeds_lists import LISTS_SEEDS
from tests.handlers.seeds_models import MODELS_SEEDS
from tests.handlers.seeds_scenarios import SCENARIOS_SEEDS

EVENT_FILES = sorted(p.name for p in EVENTS_DIR.glob("*.json"))
# Some sample events read data that must exist first (an item to GET, a model to train …).
SEEDS = {**CATALOG_SEEDS, **CHAT_SEEDS, **CUSTOMER_SEEDS, **MODELS_SEEDS, **SCENARIOS_SEEDS, **LISTS_SEEDS}


def handler_for(route_key: str) -> Any:
    method, path = route_key.split(" ", 1)
    (function,) = [r.function for r in routes() if (r.method, r.path) == (method, path)]
    (spec,) = [s for s in functions() if s.logical_id == function]
    return getattr(importlib.import_module(spec.module), spec.attribute)


def test_every_route_has_a_sample_event() -> None:
    covered = {load_event(name)["routeKey"] for name in EVENT_FILES}
    assert covered == {f"{r.method} {r.path}" for r in routes()}


@pytest.mark.parametrize("name", EVENT_FILES)
def test_sample_events_are_api_gateway_payload_2(name: str) -> None:
    event = load_event(name)
    assert event["version"] == "2.0"
    assert event["requestContext"]["routeKey"] == event["routeKey"]
    assert "claims" in event["requestContext"]["authorizer"]["jwt"]


@pytest.mark.parametrize("name", EVENT_FILES)
def test_every_sample_event_succeeds_through_its_lambda_handler(
    aws: dict, lambda_context: LambdaContext, name: str
) -> None:
    event = load_event(name)
    if name in SEEDS:
        SEEDS[name]()
    response = handler_for(event["routeKey"])(event, lambda_context)
    training_launcher().wait()  # a training request runs in a thread locally: let it end inside moto
    assert 200 <= response["statusCode"] < 300, response["body"]
    assert response["headers"]["content-type"] == "application/json"


def test_base64_encoded_bodies_are_decoded(aws: dict, lambda_context: LambdaContext) -> None:
    event = load_event("ranking-recommend.json")
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    assert handler_for(event["routeKey"])(event, lambda_context)["statusCode"] == 200


def test_a_binary_body_is_415_in_lambda_too(aws: dict, lambda_context: LambdaContext) -> None:
    event = load_event("ranking-recommend.json")
    event["body"] = base64.b64encode(b"\xff\xfe\x00\x01").decode()
    event["isBase64Encoded"] = True
    event["headers"]["content-type"] = "application/octet-stream"
    assert handler_for(event["routeKey"])(event, lambda_context)["statusCode"] == 415


def test_ranking_event_through_the_lambda_handler(aws: dict, lambda_context: LambdaContext) -> None:
    event = load_event("ranking-recommend.json")
    response = handler_for(event["routeKey"])(event, lambda_context)
    assert response["statusCode"] == 200
    assert response["headers"]["x-request-id"] == "evt-ranking-0001"
    body = json.loads(response["body"])
    assert body["rec_id"].startswith("rec_")
    assert body["items"] == [
        {"id": "EC5792", "score": 0.75},
        {"id": "FC7890", "score": 0.5, "price": 12.0},
        {"id": "FC7890", "score": 0.25, "price": 10.0},
    ]


def test_handler_maps_errors_the_same_way(aws: dict, lambda_context: LambdaContext) -> None:
    event = load_event("ranking-recommend.json")
    event["body"] = '{"user_id": "u",'
    response = handler_for(event["routeKey"])(event, lambda_context)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["code"] == "MALFORMED_JSON"


def test_handler_without_authorizer_claims_is_401(aws: dict, lambda_context: LambdaContext) -> None:
    event = load_event("ranking-recommend.json")
    del event["requestContext"]["authorizer"]
    response = handler_for(event["routeKey"])(event, lambda_context)
    assert response["statusCode"] == 401


def test_handler_uses_api_gateway_request_id_when_the_caller_sent_none(
    aws: dict, lambda_context: LambdaContext
) -> None:
    event = load_event("ranking-recommend.json")
    del event["headers"]["x-request-id"]
    response = handler_for(event["routeKey"])(event, lambda_context)
    assert response["headers"]["x-request-id"] == event["requestContext"]["requestId"]


def test_a_frontend_token_is_403_in_lambda_too(aws: dict, lambda_context: LambdaContext) -> None:
    event = load_event("ranking-recommend.json")
    event["requestContext"]["authorizer"]["jwt"]["claims"]["roles"] = "[frontend]"
    response = handler_for(event["routeKey"])(event, lambda_context)
    assert response["statusCode"] == 403
    assert "requires one of the roles" in json.loads(response["body"])["detail"]


def test_function_modules_keep_the_collector_off_the_request_path() -> None:
    import gc

    from reco.api.app import GC_GEN0_THRESHOLD

    handler_for("POST /v1/recommend")  # imports the function module, as a cold start does
    assert gc.get_threshold()[0] == GC_GEN0_THRESHOLD
    assert gc.get_freeze_count() > 10_000  # the startup heap was frozen
