"""Read template.yaml: the one source of truth for routes, tables, defaults and function environment."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation short-form tags (``!Ref X`` → ``{"Ref": "X"}``)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    module: str
    attribute: str


@lru_cache(maxsize=1)
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in load_template()["Resources"].items() if res["Type"] == kind}


def parameter_default(name: str) -> Any:
    return load_template()["Parameters"][name].get("Default")


def functions() -> list[FunctionSpec]:
    specs = []
    for name, res in sorted(resources("AWS::Serverless::Function").items()):
        module, attribute = res["Properties"]["Handler"].rsplit(".", 1)
        specs.append(FunctionSpec(name, ROOT / res["Properties"]["CodeUri"], module, attribute))
    return specs


def http_functions() -> list[FunctionSpec]:
    """Functions behind API routes (the training function is invoked, not routed)."""
    routed = {route.function for route in routes()}
    return [spec for spec in functions() if spec.logical_id in routed]


def routes() -> set[Route]:
    found = set()
    for name, res in resources("AWS::Serverless::Function").items():
        for event in res["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                found.add(Route(props["Method"].upper(), props["Path"], name))
    return found


# The local runner has no Lambda service to invoke the training function: it trains in a thread.
# It is one process, not a fleet of containers: the composed app counts each tenant's share in its
# memory (local/composed.py), so the functions' own DynamoDB counter is off.
LOCAL_OVERRIDES = {"TRAINING_LAUNCHER": "thread", "TENANT_RATE_LIMIT": "0"}


def function_environment(local_names: dict[str, str]) -> dict[str, str]:
    """The Globals environment, with ``!Ref`` resolved: resources to ``local_names``, parameters to defaults."""
    env = dict(LOCAL_OVERRIDES)
    for key, value in load_template()["Globals"]["Function"]["Environment"]["Variables"].items():
        if isinstance(value, dict) and "Ref" in value:
            ref = value["Ref"]
            value = local_names.get(ref, parameter_default(ref) if ref in load_template()["Parameters"] else ref)
        env.setdefault(key, str(value))
    return env
