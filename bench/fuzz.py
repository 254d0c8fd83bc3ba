"""A fixed, seeded list of requests on every route: the `events/` samples, valid and mutated.

Mutations a careless or hostile client makes: fields dropped, values of the wrong type, long
strings, nesting, numbers at the edges, garbage bodies, unknown ids, missing or weak tokens.
Used by bench/storage.py to watch the runner's memory under load (loopback only).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from bench.runner import bearer
from local.template import ROOT

Request = tuple[str, str, Any, dict[str, str]]
EDGE_VALUES: list[Any] = [None, "", "x" * 5000, -1, 0, 10**30, 1e308, -0.0, True, [], {}, "☃\u0000", "../../etc"]
TENANTS = ("demo", "fuzz")
ROLE_SETS = (("backend",), ("manager",), ("frontend",), ("read",), ("root",))


def samples() -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted((ROOT / "events").glob("*.json"))]


def mutate(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """A copy of ``value`` with one random change somewhere in it."""
    if isinstance(value, dict) and value and rng.random() < 0.7:
        key = rng.choice(list(value))
        changed = dict(value)
        roll = rng.random()
        if roll < 0.25:
            del changed[key]
        elif roll < 0.5:
            changed[key] = rng.choice(EDGE_VALUES)
        elif roll < 0.6:
            changed[f"unknown_{rng.randrange(100)}"] = rng.choice(EDGE_VALUES)
        else:
            changed[key] = mutate(value[key], rng, depth + 1)
        return changed
    if isinstance(value, list) and value and rng.random() < 0.7:
        changed_list = list(value)
        index = rng.randrange(len(value))
        if rng.random() < 0.3:
            changed_list = changed_list * rng.randint(2, 20)
        else:
            changed_list[index] = mutate(value[index], rng, depth + 1)
        return changed_list
    if rng.random() < 0.1:
        nested: Any = "leaf"
        for _ in range(rng.randint(2, 20)):
            nested = {"n": nested}
        return nested
    return rng.choice(EDGE_VALUES)


def fuzz_requests(count: int, rng: random.Random) -> Iterator[Request]:
    """``count`` requests: a third as sampled, the rest mutated; tokens mostly right, sometimes not."""
    events = samples()
    tokens = {(tenant, roles): bearer(tenant, *roles) for tenant in TENANTS for roles in ROLE_SETS}
    for _ in range(count):
        event = rng.choice(events)
        method, path = event["requestContext"]["http"]["method"], event["rawPath"]
        query = event.get("rawQueryString") or ""
        body: Any = json.loads(event["body"]) if event.get("body") else None
        roll = rng.random()
        if body is not None and roll < 0.6:
            body = mutate(body, rng)
        elif body is not None and roll < 0.65:
            body = rng.choice([b"{", b"\xff\xfe", b"[]", b"null", b'{"a":' * 50])
        if rng.random() < 0.2:
            query = f"{query}&{rng.choice(['limit', 'cursor', 'filter', 'amt'])}={quote(str(rng.choice(EDGE_VALUES)))}"
        if rng.random() < 0.1:
            path = path.replace(path.rstrip("/").rsplit("/", 1)[-1], quote(str(rng.choice(EDGE_VALUES)), safe=""), 1)
        headers = dict(tokens[(rng.choice(TENANTS), rng.choice(ROLE_SETS))])
        if rng.random() < 0.03:
            headers = {"Authorization": "Bearer not-a-token"}
        yield (
            method,
            f"{path}?{query}" if query else path,
            json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body,
            headers,
        )
