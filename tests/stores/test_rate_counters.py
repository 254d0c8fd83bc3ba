"""Each tenant's request counter in DynamoDB: one conditional write a request, shared by every container,
and a limiter that lets requests in when its own counter fails (throttled, missing, timed out)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber
from mangum import Mangum

from reco.api import build_app
from reco.settings import Settings
from reco.stores import rate_counters
from reco.stores.rate_counters import DynamoDbWindowCounter, tenant_limiter
from reco.tenant_share import Admission, TenantLimiter, TenantShare
from tests.conftest import LambdaContext, load_event

pytestmark = pytest.mark.store_contract  # against moto and the local store

TABLE = "RateCountersTable"
ROUTE = "POST /v1/recommend"
NOW = 1000.5  # half a second into the 2-second window 500


def counter(client: Any = None, table: str = TABLE) -> DynamoDbWindowCounter:
    return DynamoDbWindowCounter(client or boto3.client("dynamodb"), table)


def limiter_on(window_counter: Any, rate: float = 50, burst: int = 100) -> TenantLimiter:
    return TenantLimiter(TenantShare(rate, burst), window_counter, lambda: NOW)


def test_a_window_counts_up_to_its_limit_per_tenant_and_route(aws: dict[str, str]) -> None:
    counts = counter()
    assert [counts.take("x", ROUTE, 7, 3, 2000) for _ in range(4)] == [True, True, True, False]
    assert counts.take("x", ROUTE, 8, 3, 2002)  # the next window starts at zero
    assert counts.take("y", ROUTE, 7, 3, 2000)  # another tenant
    assert counts.take("x", "GET /v1/items", 7, 3, 2000)  # another route
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"x#requests#{ROUTE}"}, "sk": {"S": "7"}}
    )
    assert item["Item"]["requests"] == {"N": "3"}  # the refused fourth was not counted
    assert item["Item"]["expires_at"] == {"N": "2000"}
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"


def test_the_share_holds_across_containers(aws: dict[str, str]) -> None:
    """Two Lambda containers: each its own client and limiter, one counter between them."""
    first, second = limiter_on(counter(boto3.client("dynamodb"))), limiter_on(counter(boto3.client("dynamodb")))
    answers = [(first if n % 2 else second).admit("x", ROUTE) for n in range(101)]
    assert sum(a.admitted for a in answers) == 100
    assert answers[100] == Admission(False, 2)


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_a_throttled_counter_lets_the_request_in(
    aws: dict[str, str], code: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = boto3.client("dynamodb")
    with Stubber(client) as stub:
        stub.add_client_error("update_item", code, http_status_code=400)
        assert limiter_on(counter(client)).admit("x", ROUTE) == Admission(True)
        stub.assert_no_pending_responses()
    assert "tenant request counter unavailable: request admitted" in caplog.text


def test_a_missing_table_lets_requests_in_and_says_so(aws: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    missing = limiter_on(counter(table="NoSuchTable"), burst=1)
    assert [missing.admit("x", ROUTE) for _ in range(3)] == [Admission(True)] * 3
    failures = [r for r in caplog.records if r.getMessage() == "tenant request counter failed"]
    assert len(failures) == 3 and failures[0].levelname == "ERROR"
    assert failures[0].__dict__["error_code"] == "ResourceNotFoundException"


class TimingOutClient:
    def update_item(self, **_: Any) -> None:
        raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")


def test_a_counter_that_times_out_lets_the_request_in() -> None:
    assert limiter_on(counter(TimingOutClient())).admit("x", ROUTE) == Admission(True)


def test_the_container_limiter_follows_the_template_settings(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant_limiter.cache_clear()  # type: ignore[attr-defined]
    assert tenant_limiter() is None  # the local runner's environment: the composed app counts in memory
    tenant_limiter.cache_clear()  # type: ignore[attr-defined]
    monkeypatch.setattr(rate_counters, "get_settings", lambda: Settings(tenant_rate_limit=50, tenant_burst_limit=100))
    built = tenant_limiter()
    assert built is not None and built.share == TenantShare(50, 100)
    tenant_limiter.cache_clear()  # type: ignore[attr-defined]


def test_a_lambda_function_answers_429_with_retry_after_over_the_share(aws: dict[str, str]) -> None:
    from ranking_api import router

    share = limiter_on(counter(), rate=1, burst=2)
    handler = Mangum(build_app(router, tenant_limiter=lambda: share), lifespan="off")
    event = load_event("ranking-recommend.json")
    answers = [handler(event, LambdaContext()) for _ in range(3)]
    assert [a["statusCode"] for a in answers] == [200, 200, 429]
    refused = answers[2]
    assert refused["headers"]["retry-after"] == "2"
    assert refused["headers"]["x-request-id"] == "evt-ranking-0001"
    body = json.loads(refused["body"])
    assert body["code"] == "TENANT_RATE_LIMITED"
    assert body["detail"] == (
        "tenant 'demo' is over its share of POST /v1/recommend (2 requests per 2 s); retry after 2 s"
    )
