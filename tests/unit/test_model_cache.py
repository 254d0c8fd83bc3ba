"""The per-container artifact cache follows the registry, at most every refresh_seconds."""

from __future__ import annotations

import numpy as np
import pytest

from reco.errors import ModelNotFound, ModelNotReady
from reco.models.artifact import ModelArtifact
from reco.models.interactions import Interactions
from reco.registry import ModelRecord, artifact_key
from reco.serving.cache import ModelCache


def artifact_bytes(recipe: str = "popularity") -> bytes:
    interactions = Interactions.from_events(["u1", "u2", "u2"], ["a", "a", "b"], np.ones(3), np.arange(3.0))
    return ModelArtifact.train(recipe, None, interactions).to_bytes()


class Registry:
    def __init__(self, record: ModelRecord | None) -> None:
        self.record, self.calls = record, 0

    def get(self, tenant: str, model_id: str) -> ModelRecord | None:
        self.calls += 1
        return self.record


class Storage:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.reads: list[str] = []

    def put(self, key: str, data: bytes) -> None:
        self.objects[key] = data

    def get(self, key: str) -> bytes:
        self.reads.append(key)
        return self.objects[key]


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_loads_once_and_rechecks_the_registry_only_after_the_refresh_interval() -> None:
    registry, storage, clock = Registry(ModelRecord("m", "popularity", "ready", 1)), Storage(), Clock()
    storage.put(artifact_key("t", "m", 1), artifact_bytes())
    storage.put(artifact_key("t", "m", 2), artifact_bytes("trending"))
    cache = ModelCache(registry, storage, refresh_seconds=60, clock=clock)
    first = cache.current("t", "m")
    clock.now = 59
    assert cache.current("t", "m") is first
    assert (registry.calls, storage.reads) == (1, ["t/models/m/v1.npz"])
    clock.now = 61
    assert cache.current("t", "m") is first  # same version: checked, not reloaded
    assert (registry.calls, len(storage.reads)) == (2, 1)
    registry.record = ModelRecord("m", "popularity", "ready", 2)
    clock.now = 200
    newer = cache.current("t", "m")
    assert (newer.version, newer.artifact.recipe) == (2, "trending")
    assert storage.reads[-1] == "t/models/m/v2.npz"


def test_new_attribute_rules_apply_without_reloading_the_artifact() -> None:
    registry, storage, clock = Registry(ModelRecord("m", "popularity", "ready", 1)), Storage(), Clock()
    storage.put(artifact_key("t", "m", 1), artifact_bytes())
    cache = ModelCache(registry, storage, refresh_seconds=0, clock=clock)
    assert not cache.current("t", "m").rules
    rule = {"effect": "boost", "when": {"op": "exists"}, "weight": 0.5}
    registry.record = ModelRecord("m", "popularity", "ready", 1, attributes={"on_sale": rule})
    assert cache.current("t", "m").rules.names() == ["on_sale"]
    assert len(storage.reads) == 1


def test_unknown_and_untrained_models() -> None:
    with pytest.raises(ModelNotFound, match="model not found: 'm'"):
        ModelCache(Registry(None), Storage(), refresh_seconds=60).current("t", "m")
    with pytest.raises(ModelNotReady, match="'m' is training"):
        ModelCache(Registry(ModelRecord("m", "als", "training")), Storage(), refresh_seconds=60).current("t", "m")


def test_least_recently_used_models_are_dropped_beyond_the_limit() -> None:
    registry, storage = Registry(ModelRecord("m", "popularity", "ready", 1)), Storage()
    for tenant in ("a", "b", "c"):
        storage.put(artifact_key(tenant, "m", 1), artifact_bytes())
    cache = ModelCache(registry, storage, refresh_seconds=60, max_models=2)
    for tenant in ("a", "b", "c", "a"):
        cache.current(tenant, "m")
    assert storage.reads == [artifact_key(t, "m", 1) for t in ("a", "b", "c", "a")]
