"""template.yaml is the source of truth: the app, the local runner and pytest all follow it."""

from __future__ import annotations

import importlib
import re
import tomllib
from collections.abc import Callable
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
    # layers/core/Makefile fetches the wheels for the runtime's Python and the target architecture (no Docker).
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    layer_makefile = (ROOT / "layers/core/Makefile").read_text()
    assert "\nbuild-CoreLayer:" in layer_makefile
    assert f"LAMBDA_PYTHON_VERSION := {runtime.removeprefix('python')}\n" in layer_makefile
    assert (ROOT / "layers/core/requirements.txt").exists()
    assert (ROOT / "layers/core/reco/__init__.py").exists()  # the package sits directly in the layer folder


def test_functions_and_the_layer_follow_one_architecture_parameter() -> None:
    template = load_template()
    parameter = template["Parameters"]["Architecture"]
    assert (parameter["Default"], sorted(parameter["AllowedValues"])) == ("arm64", ["arm64", "x86_64"])
    assert template["Globals"]["Function"]["Architectures"] == [{"Ref": "Architecture"}]
    for name, function in resources("AWS::Serverless::Function").items():
        assert "Architectures" not in function["Properties"], name
    (layer,) = resources("AWS::Serverless::LayerVersion").values()
    assert layer["Properties"]["CompatibleArchitectures"] == [{"Ref": "Architecture"}]
    assert layer["Metadata"]["BuildArchitecture"] == {"Ref": "Architecture"}  # sam build caches per architecture
    # `make build ARCH=...` hands the one value to the template and to the layer's recipe, then checks the result.
    makefile = (ROOT / "Makefile").read_text()
    assert "RECO_ARCH=$(ARCH) $(TOOLS)/bin/sam build --parameter-overrides Architecture=$(ARCH)" in makefile
    assert "local.build_check .aws-sam/build/CoreLayer $(ARCH)" in makefile
    assert "RECO_ARCH ?= arm64" in (ROOT / "layers/core/Makefile").read_text()  # the same default as ARCH


def test_every_function_starts_from_a_snapshot_of_its_published_version() -> None:
    settings = load_template()["Globals"]["Function"]
    assert settings["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert settings["AutoPublishAlias"] == "live"
    assert settings["VersionDeletionPolicy"] == "Delete"  # a retained version's snapshot stays on the bill
    (layer,) = resources("AWS::Serverless::LayerVersion").values()
    assert layer["Properties"]["PublishLambdaVersion"] is True
    for name, function in resources("AWS::Serverless::Function").items():
        props = function["Properties"]
        # Any change, a new layer version included, publishes a version (and so a snapshot) behind `live`.
        assert props["AutoPublishAliasAllProperties"] is True, name
        assert not {"SnapStart", "AutoPublishAlias", "VersionDeletionPolicy"} & set(props), f"{name} overrides"
        # What SnapStart cannot be combined with.
        assert not {"ProvisionedConcurrencyConfig", "FileSystemConfigs"} & set(props), name
        assert props.get("EphemeralStorage", {"Size": 512})["Size"] <= 512, name


def test_training_requests_invoke_the_train_alias() -> None:
    models = resources("AWS::Serverless::Function")["ModelsFunction"]["Properties"]
    assert models["Environment"]["Variables"]["TRAIN_FUNCTION"] == {"Ref": "TrainFunction.Alias"}
    invoke = [s for s in models["Policies"][0]["Statement"] if s.get("Action") == "lambda:InvokeFunction"]
    assert [s["Resource"] for s in invoke] == [{"Ref": "TrainFunction.Alias"}]


def test_every_function_logs_to_its_own_group_with_retention() -> None:
    groups = resources("AWS::Logs::LogGroup")
    for name, function in resources("AWS::Serverless::Function").items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_tables_are_on_demand_with_point_in_time_recovery() -> None:
    tables = resources("AWS::DynamoDB::Table")
    assert set(tables) == {
        "ConfigTable",
        "CatalogTable",
        "EventsTable",
        "ConversationsTable",
        "DecisionsTable",
        "RateCountersTable",
    }
    for name, table in tables.items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
    for expiring in ("EventsTable", "ConversationsTable", "DecisionsTable", "RateCountersTable"):
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


RATE_COUNTERS = {"Fn::GetAtt": ["RateCountersTable", "Arn"]}


def granted_actions(function: str) -> set[str]:
    """Every IAM action a function's inline statements grant (SAM policy templates are not allowed),
    but for the tenant's request counter, which every routed function writes (its own test)."""
    actions: set[str] = set()
    for policy in resources("AWS::Serverless::Function")[function]["Properties"]["Policies"]:
        assert set(policy) == {"Statement"}, f"{function}: use explicit statements, not {sorted(policy)}"
        for statement in policy["Statement"]:
            if "Fn::If" in statement:  # a conditional grant (e.g. Bedrock only when a model is set)
                statement = statement["Fn::If"][1]
            if statement.get("Resource") == RATE_COUNTERS:
                continue
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


def test_every_routed_function_may_only_count_requests_in_the_rate_counters() -> None:
    for spec in http_functions():
        statements = resources("AWS::Serverless::Function")[spec.logical_id]["Properties"]["Policies"][0]["Statement"]
        counters = [s for s in statements if s.get("Resource") == RATE_COUNTERS]
        assert counters == [{"Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": RATE_COUNTERS}], spec
    environment = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert environment["RATE_COUNTERS_TABLE"] == {"Ref": "RateCountersTable"}
    assert (environment["TENANT_RATE_LIMIT"], environment["TENANT_BURST_LIMIT"]) == (
        {"Ref": "TenantRateLimit"},
        {"Ref": "TenantBurstLimit"},
    )


def test_a_tenant_share_is_a_fair_fraction_of_the_route_budget() -> None:
    parameters = load_template()["Parameters"]
    route = (parameters["ThrottlingRateLimit"]["Default"], parameters["ThrottlingBurstLimit"]["Default"])
    tenant = (parameters["TenantRateLimit"]["Default"], parameters["TenantBurstLimit"]["Default"])
    assert route == (250, 500)
    assert tenant == (50, 100)  # a fifth: one tenant's flood leaves four fifths of the route to the others


def test_the_edge_firewall_is_optional_and_off_by_default() -> None:
    template = load_template()
    assert template["Parameters"]["EdgeFirewall"]["Default"] == "off"
    assert template["Conditions"]["HasEdgeFirewall"] == {"Fn::Equals": [{"Ref": "EdgeFirewall"}, "on"]}
    acl = resources("AWS::WAFv2::WebACL")["EdgeWebAcl"]
    (distribution,) = resources("AWS::CloudFront::Distribution").values()
    assert acl["Condition"] == distribution["Condition"] == "HasEdgeFirewall"
    assert acl["Properties"]["Scope"] == "CLOUDFRONT"
    assert distribution["Properties"]["DistributionConfig"]["WebACLId"] == {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]}
    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}
    assert rules["no-bearer-token"]["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 401
    per_address = rules["requests-per-address"]
    assert per_address["Statement"]["RateBasedStatement"]["Limit"] == {"Ref": "EdgeRequestsPerAddress"}
    assert per_address["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429


def test_the_edge_lets_every_token_the_authorizer_may_accept_through(token: Callable[..., str]) -> None:
    acl = resources("AWS::WAFv2::WebACL")["EdgeWebAcl"]["Properties"]
    (rule,) = [r for r in acl["Rules"] if r["Name"] == "no-bearer-token"]
    shape = rule["Statement"]["AndStatement"]["Statements"][1]["NotStatement"]["Statement"]["RegexMatchStatement"]
    assert shape["FieldToMatch"] == {"SingleHeader": {"Name": "authorization"}}
    bearer = re.compile(shape["RegexString"])
    signed = token("acme", "frontend")
    assert all(bearer.search(value) for value in (f"Bearer {signed}", f"bearer {signed}", signed))
    assert not any(bearer.search(value) for value in ("", "Bearer", "Basic dXNlcjpwYXNz", f"Bearer {signed} x"))


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


def test_memory_sizes_follow_the_measured_cost_table() -> None:
    """docs/cold-start.md: model-serving functions keep 1,024 MB; the I/O-bound events and models take 512."""
    template = load_template()
    default = template["Globals"]["Function"]["MemorySize"]
    memory = {
        name: r["Properties"].get("MemorySize", default)
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function" and name != "TrainFunction"
    }
    assert memory == {
        "RankingFunction": 1024,
        "RecommendationFunction": 1024,
        "ListsFunction": 1024,
        "CustomerFunction": 1024,
        "ChatFunction": 1024,
        "CatalogFunction": 1024,
        "ScenariosFunction": 1024,
        "EventsFunction": 512,
        "ModelsFunction": 512,
    }
