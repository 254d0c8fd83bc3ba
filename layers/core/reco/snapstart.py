"""SnapStart runtime hooks: what a container restored from a snapshot must not share with its siblings.

Lambda initialises a function version once, snapshots the process, and starts every new container
of that version from the same snapshot (docs/cold-start.md). Whatever the process holds in memory at
that moment is identical in all of them:

- the ``random`` module's Mersenne Twister state (and numpy's legacy global ``RandomState``, should
  anything draw from it): restored containers would draw the same "random" numbers, so the
  retry jitter of :func:`reco.stores.codec.backoff_seconds` (and botocore's, and Powertools'
  log sampling) would move in step across the fleet;
- boto3's default session, the clients and resources cached by :mod:`reco.stores.aws`, and the
  stores built on them (:func:`reco.stores.aws.cached_store`): their credentials were resolved
  at initialisation, and any pooled HTTPS connection was opened by a process that no longer exists.

:func:`after_restore` reseeds the generators and closes and forgets those clients; the next request
builds fresh ones. :func:`before_snapshot` does work that is the same in every container (boto3's
lazy imports, botocore's parsed service descriptions) so restored containers start with it done.

Outside Lambda (tests, the local runner, the CLI) ``snapshot_restore_py`` does not exist and
:func:`register_runtime_hooks` does nothing.
"""

from __future__ import annotations

import gc
import importlib
import os
import random
import sys
from types import ModuleType
from typing import Any, cast

import boto3
import botocore.session
from botocore.client import BaseClient

# The AWS services whose descriptions (JSON that botocore parses on a first client) are parsed
# before the snapshot: DynamoDB for every function, the others where the function's modules use them
# (each function imports only its own domain's stores at initialisation).
WARM_SERVICES = {
    "dynamodb": None,
    "s3": "reco.stores.artifacts",
    "lambda": "reco.stores.launchers",
    "bedrock-runtime": "reco.stores.bedrock",
}

# How deep :func:`close_cached_clients` looks for botocore clients inside a cached store
# (a service -> its stores -> a store -> a boto3 Table -> its meta -> the client).
CLIENT_SEARCH_DEPTH = 6

_registered = False
_warm_loader: Any = None  # botocore's data loader, parsed before the snapshot: carried into fresh sessions


def register_runtime_hooks() -> bool:
    """Register :func:`before_snapshot` and :func:`after_restore` with the Lambda runtime, once.

    Call it during initialisation (module level), where Lambda looks for hooks. Returns whether
    the hooks are registered: False outside Lambda, where ``snapshot_restore_py`` is absent.
    """
    global _registered
    if _registered:
        return True
    try:
        runtime = importlib.import_module("snapshot_restore_py")
    except ImportError:
        return False
    runtime.register_before_snapshot(before_snapshot)
    runtime.register_after_restore(after_restore)
    _registered = True
    return True


def services_to_warm() -> list[str]:
    """The services this function's stores call: DynamoDB, and those whose store module is loaded."""
    return [service for service, store in WARM_SERVICES.items() if store is None or store in sys.modules]


def before_snapshot() -> None:
    """Do, once, the work that is the same in every container: boto3's imports and parsed service models.

    Nothing here may depend on the container: the clients made to load service models use
    placeholder credentials and are dropped at once; no request leaves the process.
    """
    global _warm_loader
    core = botocore.session.get_session()
    session = boto3.session.Session(
        botocore_session=core,
        aws_access_key_id="snapshot-warm-up",
        aws_secret_access_key="snapshot-warm-up",  # noqa: S106 - a placeholder: never sent anywhere
        region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    )
    session.resource("dynamodb").meta.client.close()  # boto3's resource model and its modules too
    for service in services_to_warm():
        cast(Any, session).client(service).close()  # (the stubs know service names as literals only)
    _warm_loader = core.get_component("data_loader")
    # The parsed models are long-lived objects like the imports before them: out of the collector's
    # walks, as reco.api.app.tune_gc_for_requests does at the end of initialisation.
    gc.collect()
    gc.freeze()


def after_restore() -> None:
    """Make this restored container's state its own: fresh random seeds, fresh AWS clients."""
    reseed_random()
    forget_clients()


def reseed_random() -> None:
    """Seed ``random`` (and numpy's legacy global generator, if loaded) from the kernel's entropy.

    Generators seeded on purpose (tuning, ALS's ``random_state``, evaluation samples) are built per
    call from their seed and are left alone: they must repeat.
    """
    random.seed()
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed()


def forget_clients() -> int:
    """Close every cached botocore client, forget the cached stores and boto3's default session.

    The next ``boto3.client`` / ``boto3.resource`` builds a new default session, which resolves
    credentials again; it reuses the service models parsed before the snapshot (pure data).
    Returns how many clients were closed.
    """
    from reco.stores import aws  # the layer's stores, imported by then in every function

    closed = close_cached_clients()
    aws.reset_clients()
    core = botocore.session.get_session()
    if _warm_loader is not None:
        core.register_component("data_loader", _warm_loader)
    boto3.setup_default_session(botocore_session=core)
    if _warm_loader is not None:  # each boto3 session appends its data folder to the shared loader's paths
        _warm_loader.search_paths[:] = list(dict.fromkeys(_warm_loader.search_paths))
    return closed


def close_cached_clients() -> int:
    """Close the HTTPS connection pools of the botocore clients held by cached stores and clients."""
    from reco.stores import aws

    caches: list[Any] = [aws._dynamodb, aws._s3, *aws._FACTORIES]
    roots = [cache() for cache in caches if cache.cache_info().currsize]  # the cached value, not a new one
    clients = _find_clients(roots)
    for client in clients:
        client.close()
    return len(clients)


def _find_clients(roots: list[Any]) -> list[BaseClient]:
    """The botocore clients among ``roots`` and their attributes (objects' ``__dict__``, not containers)."""
    found: dict[int, BaseClient] = {}
    seen: set[int] = set()
    level = list(roots)
    for _ in range(CLIENT_SEARCH_DEPTH):
        following: list[Any] = []
        for value in level:
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, BaseClient):
                found[id(value)] = value
                continue
            attributes = getattr(value, "__dict__", None)
            if isinstance(attributes, dict) and not isinstance(value, type | ModuleType):
                following.extend(attributes.values())
        level = following
    return list(found.values())
