"""template.yaml is the source of truth: the app, the local runner and pytest all follow it."""

from __future__ import annotations

import importlib
import tomllib
from typing import Any

from fastapi import FastAPI

from local.composed import compose_app
from local.template import ROOT, functions, http_functions, load_template, resources, routes


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(METHOD, path) of every documented API route, from the app's own OpenAPI document."""
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def test_template_routes_equal_the_composed_app_routes() -> None:
    assert {(r.method, r.path) for r in routes()} == api_routes(compose_app())


def test_each_function_serves_exactly_its_template_routes() -> None:
    for spec in http_functions():
        module = importlib.import_module(spec.module)
        expected = {(r.method, r.path) for r in routes() if r.function == spec.logical_id}
        assert api_routes(module.app) == expected, spec.logical_id
        assert callable(getattr(module, spec.attribute))


def test_pytest_imports_every_function_the_way_lambda_does() -> None:
    pythonpath = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["pythonpath"]
    assert "layers/core" in pythonpath
    for spec in functions():
        assert str(spec.code_uri.relative_to(ROOT)).rstrip("/") in pythonpath


def test_functions_are_thin_and_share_one_layer_on_a_recent_runtime() -> None:
    template = load_template()
    runtime = template["Globals"]["Function"]["Runtime"]
    assert runtime in {"python3.12", "python3.13"}
    (layer,) = resources("AWS::Serverless::LayerVersion").values()
    assert layer["Properties"]["ContentUri"] == "layers/core"
    assert layer["Metadata"]["BuildMethod"] == runtime
    assert (ROOT / "layers/core/requirements.txt").exists()
    assert (ROOT / "layers/core/reco/__init__.py").exists()  # the package sits directly in the layer folder


def test_every_function_logs_to_its_own_group_with_retention() -> None:
    groups = resources("AWS::Logs::LogGroup")
    for name, function in resources("AWS::Serverless::Function").items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_tables_are_on_demand_with_point_in_time_recovery() -> None:
    tables = resources("AWS::DynamoDB::Table")
    assert set(tables) == {"ConfigTable", "CatalogTable", "EventsTable", "ConversationsTable", "DecisionsTable"}
    for name, table in tables.items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
    for expiring in ("EventsTable", "ConversationsTable", "DecisionsTable"):
        assert tables[expiring]["Properties"]["TimeToLiveSpecification"]["Enabled"] is True


def test_artifact_bucket_is_encrypted_and_private() -> None:
    (bucket,) = resources("AWS::S3::Bucket").values()
    props = bucket["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(props["PublicAccessBlockConfiguration"].values())


def test_api_has_a_default_jwt_authorizer_throttling_cors_and_access_logs() -> None:
    (api,) = resources("AWS::Serverless::HttpApi").values()
    props = api["Properties"]
    jwt = props["Auth"]["Authorizers"][props["Auth"]["DefaultAuthorizer"]]["JwtConfiguration"]
    assert jwt == {"issuer": {"Ref": "JwtIssuer"}, "audience": {"Ref": "JwtAudience"}}
    assert props["DefaultRouteSettings"]["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    assert "x-request-id" in props["CorsConfiguration"]["ExposeHeaders"]
    assert props["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}


def granted_actions(function: str) -> set[str]:
    """Every IAM action a function's inline statements grant (SAM policy templates are not allowed)."""
    actions: set[str] = set()
    for policy in resources("AWS::Serverless::Function")[function]["Properties"]["Policies"]:
        assert set(policy) == {"Statement"}, f"{function}: use explicit statements, not {sorted(policy)}"
        for statement in policy["Statement"]:
            if "Fn::If" in statement:  # a conditional grant (e.g. Bedrock only when a model is set)
                statement = statement["Fn::If"][1]
            assert statement["Effect"] == "Allow"
            action = statement["Action"]
            actions |= {action} if isinstance(action, str) else set(action)
    return actions


def test_ranking_reads_single_items_and_partitions_and_writes_only_decisions() -> None:
    assert granted_actions("RankingFunction") == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "s3:GetObject",
    }


def test_no_function_may_scan_a_table() -> None:
    for name in resources("AWS::Serverless::Function"):
        assert not any(action.endswith(("Scan", "*")) for action in granted_actions(name)), name


def test_the_local_aws_is_built_from_the_template(aws: dict[str, str]) -> None:
    import boto3

    described = boto3.client("dynamodb").describe_table(TableName="EventsTable")["Table"]
    template_props = resources("AWS::DynamoDB::Table")["EventsTable"]["Properties"]
    assert described["KeySchema"] == template_props["KeySchema"]
    assert [i["IndexName"] for i in described["GlobalSecondaryIndexes"]] == ["by_shard"]
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName="EventsTable")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    assert aws["ArtifactsBucket"] in [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]
