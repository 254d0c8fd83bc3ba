"""SnapStart runtime hooks (reco.snapstart): registered with the Lambda runtime when it is there, and
restored containers that neither repeat each other's random draws nor reuse the snapshot's AWS clients."""

from __future__ import annotations

import importlib
import random
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import numpy as np
import pytest

from reco import snapstart
from reco.stores import aws
from reco.stores.codec import backoff_seconds


class FakeRuntime(ModuleType):
    """``snapshot_restore_py`` as the Lambda Python runtime provides it: two registration functions."""

    def __init__(self) -> None:
        super().__init__("snapshot_restore_py")
        self.before: list[Callable[[], Any]] = []
        self.after: list[Callable[[], Any]] = []

    def register_before_snapshot(self, func: Callable[[], Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
        self.before.append(func)
        return func

    def register_after_restore(self, func: Callable[[], Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
        self.after.append(func)
        return func


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRuntime]:
    """The fake runtime module in sys.modules; snapstart's, boto3's and random's state put back afterwards."""
    fake = FakeRuntime()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    monkeypatch.setattr(snapstart, "_registered", False)
    monkeypatch.setattr(snapstart, "_warm_loader", None)
    monkeypatch.setattr(aws, "_FACTORIES", list(aws._FACTORIES))  # stores a test defines are dropped after it
    session, random_state, numpy_state = boto3.DEFAULT_SESSION, random.getstate(), np.random.get_state()
    aws.reset_clients()
    yield fake
    aws.reset_clients()
    boto3.DEFAULT_SESSION = session
    random.setstate(random_state)
    np.random.set_state(numpy_state)


def test_outside_lambda_there_is_nothing_to_register(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapstart, "_registered", False)
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # `import` raises ImportError
    assert snapstart.register_runtime_hooks() is False
    assert snapstart._registered is False


def test_the_hooks_are_registered_once(runtime: FakeRuntime) -> None:
    assert snapstart.register_runtime_hooks() is True
    assert snapstart.register_runtime_hooks() is True  # every function module may ask: one registration
    assert runtime.before == [snapstart.before_snapshot]
    assert runtime.after == [snapstart.after_restore]


def test_the_api_handlers_and_the_train_handler_register_the_hooks(runtime: FakeRuntime) -> None:
    from fastapi import FastAPI

    from reco.api.app import lambda_handler

    lambda_handler(FastAPI())
    assert (runtime.before, runtime.after) == ([snapstart.before_snapshot], [snapstart.after_restore])

    snapstart._registered = False
    runtime.before.clear()
    runtime.after.clear()
    importlib.reload(importlib.import_module("train_handler"))  # registration happens at import
    assert (runtime.before, runtime.after) == ([snapstart.before_snapshot], [snapstart.after_restore])


def restored_draws(snapshot: tuple[Any, dict[str, Any]], restore: Callable[[], Any] | None) -> list[float]:
    """What a container restored from ``snapshot`` (random's and numpy's state) draws first."""
    random.setstate(snapshot[0])
    np.random.set_state(snapshot[1])
    if restore is not None:
        restore()
    drawn = [random.random(), random.random()]  # noqa: S311 - the state under test, not a secret
    return [*drawn, backoff_seconds(5), *np.random.random_sample(2).tolist()]


def test_restored_containers_do_not_repeat_each_others_random_draws(runtime: FakeRuntime) -> None:
    snapstart.register_runtime_hooks()
    (restore,) = runtime.after
    random.seed(2026)  # the state a snapshot would hold
    np.random.seed(2026)
    snapshot = (random.getstate(), np.random.get_state(legacy=False))

    unhooked = [restored_draws(snapshot, None) for _ in range(2)]
    assert unhooked[0] == unhooked[1]  # the problem: every container repeats the snapshot's sequence

    first, second = restored_draws(snapshot, restore), restored_draws(snapshot, restore)
    assert first != second
    for draws in (first, second):
        # Not one value in common with the sequence every unhooked container would draw.
        assert not set(draws) & set(unhooked[0]), draws
        assert 0 <= draws[2] <= 10  # still a backoff: within the codec's cap


class Holder:
    """A store's shape: a client a couple of attributes deep."""

    def __init__(self) -> None:
        self.inner = type("Inner", (), {})()
        self.inner.client = boto3.client("lambda")


def pool_count(client: Any) -> int:
    return len(client._endpoint.http_session._manager.pools)


def open_pool(client: Any) -> None:
    """A connection pool, as the first request leaves one (creating it sends nothing)."""
    client._endpoint.http_session._manager.connection_from_url(client.meta.endpoint_url)
    assert pool_count(client) == 1


def test_restore_closes_and_rebuilds_the_cached_clients_with_fresh_credentials(
    runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapstart.register_runtime_hooks()
    (restore,) = runtime.after
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key-at-initialisation")
    boto3.DEFAULT_SESSION = None

    holder = aws.cached_store(Holder)
    s3, table, stored = aws.s3_client(), aws.dynamodb_table("ConfigTable"), holder()
    session = boto3.DEFAULT_SESSION
    for client in (s3, table.meta.client, stored.inner.client):
        open_pool(client)
    assert (aws.s3_client(), holder()) == (s3, stored)  # cached until the restore

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key-after-restore")  # the restored container's credentials
    restore()

    for client in (s3, table.meta.client, stored.inner.client):
        assert pool_count(client) == 0  # the snapshot's connections are closed, not left to time out
    assert boto3.DEFAULT_SESSION is not session
    new_s3, new_table, new_stored = aws.s3_client(), aws.dynamodb_table("ConfigTable"), holder()
    assert new_s3 is not s3
    assert new_table.meta.client is not table.meta.client
    assert new_stored is not stored and new_stored.inner.client is not stored.inner.client
    signed_with = {
        "before": s3._request_signer._credentials.access_key,
        "after": new_s3._request_signer._credentials.access_key,
    }
    assert signed_with == {"before": "key-at-initialisation", "after": "key-after-restore"}
    assert aws.s3_client() is new_s3  # cached again


def test_close_counts_each_client_once(runtime: FakeRuntime) -> None:
    table_a, table_b, s3 = aws.dynamodb_table("A"), aws.dynamodb_table("B"), aws.s3_client()
    assert table_a.meta.client is table_b.meta.client  # one resource, one client
    assert snapstart.close_cached_clients() == 2  # the resource's client and s3's
    assert snapstart.close_cached_clients() == 2  # closing twice is harmless (nothing was forgotten yet)
    aws.reset_clients()
    assert snapstart.close_cached_clients() == 0
    assert s3 is not aws.s3_client()


def test_only_the_services_a_function_loads_stores_for_are_warmed(monkeypatch: pytest.MonkeyPatch) -> None:
    for store in ("reco.stores.artifacts", "reco.stores.launchers", "reco.stores.bedrock"):
        monkeypatch.delitem(sys.modules, store, raising=False)
    assert snapstart.services_to_warm() == ["dynamodb"]  # catalog's, events' or scenarios' case
    monkeypatch.setitem(sys.modules, "reco.stores.artifacts", ModuleType("reco.stores.artifacts"))
    assert snapstart.services_to_warm() == ["dynamodb", "s3"]  # a function that reads model artifacts


def test_before_snapshot_keeps_parsed_service_models_for_the_restored_containers(
    runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    importlib.import_module("reco.stores.artifacts")  # this function's stores: S3 and Lambda besides DynamoDB
    importlib.import_module("reco.stores.launchers")
    snapstart.register_runtime_hooks()
    (warm,) = runtime.before
    (restore,) = runtime.after
    warm()
    assert {"boto3.dynamodb.table", "boto3.dynamodb.conditions", "boto3.s3.inject"} <= set(sys.modules)
    loader = snapstart._warm_loader
    assert loader is not None

    restore()
    assert boto3.DEFAULT_SESSION._session.get_component("data_loader") is loader
    assert len(loader.search_paths) == len(set(loader.search_paths))  # sessions do not pile up paths

    # The restored container's clients are built from the models parsed before the snapshot: no file is read.
    def no_files(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"read a service file after restore: {args}")

    monkeypatch.setattr(loader.file_loader, "load_file", no_files)
    assert aws.s3_client().meta.service_model.service_name == "s3"
    assert aws.dynamodb_table("ConfigTable").meta.client.meta.service_model.service_name == "dynamodb"
    assert boto3.client("lambda").meta.service_model.service_name == "lambda"
    with pytest.raises(AssertionError, match="read a service file"):
        boto3.client("sqs")  # not warmed: parsed on first use, as without the hook
