"""The local runner's AWS: DynamoDB and S3 on the local disk (local.endpoint), tables and bucket from template.yaml."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import boto3

from local.endpoint import LocalAws
from local.template import resources

LOCAL_REGION = "us-east-1"


def use_fake_credentials(endpoint_url: str | None = None) -> None:
    """Point boto3 at the local endpoint with dummy credentials, so nothing can reach a real account."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=LOCAL_REGION,
        AWS_REGION=LOCAL_REGION,
    )
    if endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_local_aws(data_dir: Path | None) -> LocalAws:
    """DynamoDB and S3 under ``data_dir`` (a throwaway folder when None): served over HTTP on a free
    loopback port for other processes, and answered in this process for boto3's default session."""
    local_aws = LocalAws(data_dir)
    use_fake_credentials(local_aws.serve())
    local_aws.install()
    local_aws.sweep_expired_items()
    return local_aws


def _table_arguments(name: str, props: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if "GlobalSecondaryIndexes" in props:
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return args


def local_resource_names() -> dict[str, str]:
    """``{logical_id: local name}`` of every table (its logical id) and bucket (lower-cased)."""
    names = {logical_id: logical_id for logical_id in resources("AWS::DynamoDB::Table")}
    names.update({logical_id: logical_id.lower() for logical_id in resources("AWS::S3::Bucket")})
    return names


def provision_resources() -> dict[str, str]:
    """Create every DynamoDB table and S3 bucket that template.yaml declares, from its own definitions.

    Tables that exist already (a persistent local store) keep their items; indexes the template
    added or dropped since are created (and filled) or deleted. Returns ``{logical_id: local name}``
    for resolving ``!Ref`` in function environments.
    """
    names = local_resource_names()
    dynamodb = boto3.client("dynamodb")
    existing = set(dynamodb.list_tables()["TableNames"])
    for logical_id, res in resources("AWS::DynamoDB::Table").items():
        props = res["Properties"]
        arguments = _table_arguments(names[logical_id], props)
        if names[logical_id] in existing:
            reconcile_indexes(dynamodb, arguments)
            continue
        dynamodb.create_table(**arguments)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=names[logical_id],
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
    s3 = boto3.client("s3")
    buckets = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    for logical_id in resources("AWS::S3::Bucket"):
        if names[logical_id] not in buckets:
            s3.create_bucket(Bucket=names[logical_id])
    return names


def reconcile_indexes(dynamodb: Any, wanted: dict[str, Any]) -> None:
    table = dynamodb.describe_table(TableName=wanted["TableName"])["Table"]
    have = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    want = {index["IndexName"]: index for index in wanted.get("GlobalSecondaryIndexes", [])}
    updates: list[dict[str, Any]] = [{"Delete": {"IndexName": name}} for name in have - want.keys()]
    updates += [{"Create": want[name]} for name in want.keys() - have]
    for update in updates:  # DynamoDB takes one index change per call
        dynamodb.update_table(
            TableName=wanted["TableName"],
            AttributeDefinitions=wanted["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[update],
        )
