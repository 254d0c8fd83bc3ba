"""Shared fixtures: an in-memory AWS built from template.yaml, tokens, the app behind the gateway."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from local.aws import local_resource_names, provision_resources, use_fake_credentials
from local.endpoint import LocalAws
from local.template import ROOT, function_environment

# Before any function module is imported: they read settings from the environment once.
use_fake_credentials()
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.update(function_environment(local_resource_names()))

from fastapi.testclient import TestClient  # noqa: E402
from moto import mock_aws  # noqa: E402

from local.composed import gateway_app  # noqa: E402
from local.tokens import issue_token  # noqa: E402
from reco.stores.aws import reset_clients  # noqa: E402

EVENTS_DIR = ROOT / "events"


# Store tests run against every AWS the product can meet off AWS: moto (the other tests) and the local
# store that `make run` keeps its data in. A module opts in with `pytestmark = pytest.mark.store_contract`.
STORE_BACKENDS = ("moto", "local")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "store_contract: run the module's `aws` tests against every store backend")
    config.addinivalue_line("markers", "fuzz: the schema fuzzer (tests/test_fuzz.py); `make fuzz` runs it longer")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "aws" in metafunc.fixturenames and metafunc.definition.get_closest_marker("store_contract"):
        metafunc.parametrize("aws", STORE_BACKENDS, indirect=True)


@pytest.fixture
def aws(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """A fresh AWS with every table and bucket of template.yaml: moto's, or the local store in a temporary folder."""
    if getattr(request, "param", "moto") == "local":
        local_aws = LocalAws(None)
        local_aws.install()
        reset_clients()
        try:
            yield provision_resources()
        finally:
            local_aws.uninstall()
            local_aws.close()
            reset_clients()
        return
    with mock_aws():
        reset_clients()
        yield provision_resources()
    reset_clients()


@pytest.fixture
def token() -> Callable[..., str]:
    """``token(tenant, *roles, **options)`` → a signed local token."""

    def make(tenant: str = "acme", *roles: str, **options: Any) -> str:
        return issue_token(tenant, list(roles) or ["backend"], **options)

    return make


@pytest.fixture
def auth(token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """``auth(tenant, *roles)`` → an Authorization header."""

    def make(tenant: str = "acme", *roles: str, **options: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(tenant, *roles, **options)}"}

    return make


@pytest.fixture(scope="session")
def gateway() -> Any:
    return gateway_app(throttling=False)


@pytest.fixture
def client(aws: dict[str, str], gateway: Any) -> Iterator[TestClient]:
    with TestClient(gateway) as test_client:
        yield test_client


@dataclass
class LambdaContext:
    function_name: str = "RankingFunction"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:RankingFunction"
    aws_request_id: str = "3f2c8a8e-5d7b-4c55-9c2d-2a0e1c7f9b10"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 15_000


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text())
