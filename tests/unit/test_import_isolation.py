"""Each function loads only what its routes use: its handler module, imported in a fresh interpreter as
Lambda's init does (the layer and the function's own directory on the path, nothing else), leaves no
module of another domain in ``sys.modules`` (why: docs/cold-start.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from local.template import ROOT

# The layer's domains: an endpoint family's package, the fitting and evaluation code, the data tools.
DOMAINS = (
    "chat",
    "cli",
    "customer",
    "datasets",
    "demo",
    "evaluation",
    "imports",
    "ingestion",
    "item_files",
    "lists",
    "model_definitions",
    "models",
    "ranking",
    "recommendations",
    "scenarios",
    "serving",
    "session_evaluation",
    "training",
)
SERVING = ("serving", "models")
# Per function: the domains its routes use, and the modules inside them it still must not load.
ALLOWED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ranking": (("ranking", *SERVING), ("reco.models.bm25", "reco.models.text_index")),
    "recommendation": (("recommendations", "scenarios", *SERVING), ("reco.models.bm25",)),
    "lists": (("lists", "recommendations", "scenarios", *SERVING), ("reco.models.bm25",)),
    "customer": (("customer", "recommendations", "scenarios", *SERVING), ("reco.models.bm25",)),
    # The Bedrock client loads only on stacks that configure a chat model (none here).
    "chat": (("chat", "recommendations", "scenarios", *SERVING), ("reco.stores.bedrock",)),
    "catalog": (("ingestion",), ()),
    "events": (("ingestion",), ()),
    "scenarios": (("scenarios",), ()),
    # Starting a run needs the definition checks, not the fitting, tuning and evaluation code.
    "models": (
        ("model_definitions", "training", "models"),
        ("reco.training.service", "reco.training.tuning", "reco.models.artifact", "reco.models.bm25"),
    ),
    "train": (("training", "evaluation", "models"), ()),
}
# Outside Lambda the Tracer is never built, so the X-Ray SDK must not load either.
NEVER = ("aws_xray_sdk",)
# Functions that keep no model: numpy (about 65 ms of a cold start) stays out.
WITHOUT_NUMPY = ("catalog", "events", "scenarios")

LOADED_MODULES = """
import importlib, json, pathlib, sys
module = next(pathlib.Path(sys.argv[1]).glob("*.py")).stem
importlib.import_module(module)
print(json.dumps(sorted(sys.modules)))
"""


def loaded_by(function: str) -> list[str]:
    directory = ROOT / "functions" / function
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LAMBDA_TASK_ROOT", "CHAT_MODEL_ID")}
    env["PYTHONPATH"] = f"{ROOT / 'layers/core'}{os.pathsep}{directory}"
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    result = subprocess.run(
        [sys.executable, "-c", LOADED_MODULES, str(directory)],
        capture_output=True,
        text=True,
        env=env,
        cwd=directory,
        timeout=120,
        check=True,
    )
    return list(json.loads(result.stdout))


def test_every_function_is_listed() -> None:
    assert sorted(ALLOWED) == sorted(p.name for p in (ROOT / "functions").iterdir() if p.is_dir())


@pytest.mark.parametrize("function", sorted(ALLOWED))
def test_a_function_loads_no_other_domain(function: str) -> None:
    allowed, excluded = ALLOWED[function]
    modules = loaded_by(function)
    foreign = sorted(
        m
        for m in modules
        if m.startswith("reco.")
        and m.split(".")[1] in DOMAINS
        and (m.split(".")[1] not in allowed or m.startswith(excluded))
    )
    assert foreign == [], f"{function} loads {foreign}"
    assert not [m for m in modules if m.split(".")[0] in NEVER]
    assert ("numpy" in modules) == (function not in WITHOUT_NUMPY)
    # The check sees what it should: the function's own domain did load.
    assert any(m.split(".")[:2] == ["reco", allowed[0]] for m in modules)
