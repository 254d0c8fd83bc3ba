"""What CloudFormation receives after SAM's transform: the parts that only show up there."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from local.template import ROOT, http_functions, routes

TOOLS_PYTHON = ROOT / ".venv-tools/bin/python"
PARAMETERS = {"JwtIssuer": "https://issuer.example.com/", "JwtAudience": "client-1,client-2"}


def transform(template: Path) -> dict[str, Any]:
    if not TOOLS_PYTHON.exists():
        pytest.skip("needs .venv-tools (make tools) for the SAM translator")
    result = subprocess.run(
        [
            str(TOOLS_PYTHON),
            str(ROOT / "tests/tools/sam_transform.py"),
            str(template),
            json.dumps(PARAMETERS),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(result.stdout))


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    return transform(ROOT / "template.yaml")


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def alias_of(template: dict[str, Any], logical_id: str) -> str:
    """The function whose `live` alias ``logical_id`` is (fails for anything but such an alias)."""
    alias = template["Resources"][logical_id]
    assert alias["Type"] == "AWS::Lambda::Alias", logical_id
    assert alias["Properties"]["Name"] == "live"
    return str(alias["Properties"]["FunctionName"]["Ref"])


def routed_functions() -> list[str]:
    return [spec.logical_id for spec in http_functions()]


def test_cors_origins_reach_api_gateway_as_a_list(transformed: dict[str, Any]) -> None:
    (api,) = of_type(transformed, "AWS::ApiGatewayV2::Api").values()
    cors = api["Properties"]["Body"]["x-amazon-apigateway-cors"]
    assert cors["allowOrigins"] == ["*"]
    assert cors["exposeHeaders"] == ["x-request-id"]


def test_every_route_uses_the_jwt_authorizer(transformed: dict[str, Any]) -> None:
    (api,) = of_type(transformed, "AWS::ApiGatewayV2::Api").values()
    body = api["Properties"]["Body"]
    authorizer = body["components"]["securitySchemes"]["JwtAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert authorizer["jwtConfiguration"] == {"issuer": {"Ref": "JwtIssuer"}, "audience": {"Ref": "JwtAudience"}}
    operations = [op for path in body["paths"].values() for op in path.values()]
    assert operations and all(op["security"] == [{"JwtAuthorizer": []}] for op in operations)


def test_the_stage_throttles_and_logs(transformed: dict[str, Any]) -> None:
    (stage,) = of_type(transformed, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["DefaultRouteSettings"]
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
    assert settings["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    assert stage["Properties"]["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}


def test_ranking_role_is_least_privilege(transformed: dict[str, Any]) -> None:
    role = transformed["Resources"]["RankingFunctionRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert statements == [
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": {"Fn::GetAtt": ["ConfigTable", "Arn"]}},
        {"Effect": "Allow", "Action": "dynamodb:Query", "Resource": {"Fn::GetAtt": ["EventsTable", "Arn"]}},
        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": {"Fn::GetAtt": ["DecisionsTable", "Arn"]}},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "${ArtifactsBucket.Arn}/*"}},
        {"Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": {"Fn::GetAtt": ["RateCountersTable", "Arn"]}},
    ]


def test_models_role_may_invoke_only_the_train_alias(transformed: dict[str, Any]) -> None:
    role = transformed["Resources"]["ModelsFunctionRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    invoke = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    # Ref of an AWS::Lambda::Alias is its qualified ARN (…:function:<name>:live): the grant covers what
    # the launcher invokes, and neither $LATEST nor another version.
    assert invoke == [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": {"Ref": "TrainFunctionAliaslive"}}
    ]
    assert alias_of(transformed, "TrainFunctionAliaslive") == "TrainFunction"


def test_training_runs_on_the_train_alias_without_retries(transformed: dict[str, Any]) -> None:
    resources = transformed["Resources"]
    environment = resources["ModelsFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["TRAIN_FUNCTION"] == {"Ref": "TrainFunctionAliaslive"}  # the alias ARN, given to Invoke
    # SAM puts the function's EventInvokeConfig on the alias: invoking the unqualified function would retry.
    (config,) = of_type(transformed, "AWS::Lambda::EventInvokeConfig").values()
    assert config["Properties"]["FunctionName"] == {"Ref": "TrainFunction"}
    assert (config["Properties"]["Qualifier"], config["Properties"]["MaximumRetryAttempts"]) == ("live", 0)


def test_every_function_snapstarts_behind_a_live_alias(transformed: dict[str, Any]) -> None:
    functions = of_type(transformed, "AWS::Lambda::Function")
    versions = of_type(transformed, "AWS::Lambda::Version")
    aliases = of_type(transformed, "AWS::Lambda::Alias")
    assert len(functions) == len(versions) == len(aliases) == len(routed_functions()) + 1  # and TrainFunction
    for name, function in functions.items():
        assert function["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}, name
        assert function["Properties"]["Architectures"] == [{"Ref": "Architecture"}], name
        (version,) = [v for v, r in versions.items() if r["Properties"]["FunctionName"] == {"Ref": name}]
        (alias,) = [a for a, r in aliases.items() if r["Properties"]["FunctionName"] == {"Ref": name}]
        assert aliases[alias]["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version, "Version"]}, name
        assert versions[version]["DeletionPolicy"] == "Delete", name  # the version `live` leaves goes, snapshot too
    (layer,) = of_type(transformed, "AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleArchitectures"] == [{"Ref": "Architecture"}]


INVOCATION = re.compile(r"/functions/\$\{(?P<target>[A-Za-z0-9]+)\}/invocations$")


def test_every_route_invokes_a_live_alias(transformed: dict[str, Any]) -> None:
    (api,) = of_type(transformed, "AWS::ApiGatewayV2::Api").values()
    targets = {}
    for path, operations in api["Properties"]["Body"]["paths"].items():
        for method, operation in operations.items():
            uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            found = INVOCATION.search(uri)
            assert found, (method, path, uri)
            targets[(method, path)] = alias_of(transformed, found["target"])
    # Every route of the template, each on the alias of the function that serves it.
    assert {(method.upper(), path): f for (method, path), f in targets.items()} == {
        (r.method, r.path): r.function for r in routes()
    }
    # API Gateway may invoke exactly those aliases (a grant on the function would not cover them).
    permissions = [p["Properties"] for p in of_type(transformed, "AWS::Lambda::Permission").values()]
    assert len(permissions) == len(targets)
    for permission in permissions:
        assert permission["Principal"] == "apigateway.amazonaws.com"
        alias_of(transformed, permission["FunctionName"]["Ref"])


def test_a_new_layer_publishes_a_new_version_of_every_function(tmp_path: Path) -> None:
    """The functions' code lives in the layer: a layer-only change must reach `live` too."""
    template = (ROOT / "template.yaml").read_text()
    described = "Description: reco domain package"
    assert template.count(described) == 1
    changed = tmp_path / "template.yaml"
    changed.write_text(template.replace(described, f"{described} (changed)"))

    def versions(of: dict[str, Any]) -> set[str]:
        return set(of_type(of, "AWS::Lambda::Version"))

    before, after = versions(transform(ROOT / "template.yaml")), versions(transform(changed))
    assert len(before) == len(after) == len(routed_functions()) + 1
    assert not before & after  # every version's logical id changed: CloudFormation publishes a new one of each
