"""What CloudFormation receives after SAM's transform: the parts that only show up there."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from local.template import ROOT

TOOLS_PYTHON = ROOT / ".venv-tools/bin/python"
PARAMETERS = {"JwtIssuer": "https://issuer.example.com/", "JwtAudience": "client-1,client-2"}


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    if not TOOLS_PYTHON.exists():
        pytest.skip("needs .venv-tools (make tools) for the SAM translator")
    result = subprocess.run(
        [
            str(TOOLS_PYTHON),
            str(ROOT / "tests/tools/sam_transform.py"),
            str(ROOT / "template.yaml"),
            json.dumps(PARAMETERS),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(result.stdout))


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


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


def test_models_role_may_invoke_only_the_train_function(transformed: dict[str, Any]) -> None:
    role = transformed["Resources"]["ModelsFunctionRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    invoke = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert invoke == [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": {"Fn::GetAtt": ["TrainFunction", "Arn"]}}
    ]
