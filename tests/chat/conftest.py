"""The demo tenant, loaded once for the chat tests that converse over it (seeding and training take ~10 s)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from local.aws import provision_resources
from local.demo import seed_demo
from reco.stores.aws import reset_clients
from tests.shop import load_shop


@pytest.fixture(scope="package")
def demo_client(gateway: Any) -> Iterator[TestClient]:
    """A client of the app over an in-memory AWS holding the demo tenant: its catalog, users, events and the
    trained ``demo-als``. Shared by the modules that use it: each starts its own conversations, and one that
    changes the tenant (a default scenario) puts it back."""
    with mock_aws():
        reset_clients()
        provision_resources()
        seed_demo()
        with TestClient(gateway) as client:
            yield client
    reset_clients()


@pytest.fixture(scope="module")
def shop_client(gateway: Any) -> Iterator[TestClient]:
    """A client over an in-memory AWS holding the small record shop of tests.shop (items with genre,
    price, tags; a trained model) as tenant ``demo``: one per module, as each changes it."""
    with mock_aws():
        reset_clients()
        provision_resources()
        load_shop("demo")
        with TestClient(gateway) as client:
            yield client
    reset_clients()
