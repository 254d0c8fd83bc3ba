"""In-memory AWS for the local runner: a moto server, with tables and bucket built from template.yaml."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

import boto3

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


def start_moto_server() -> Any:
    """Start moto's server in a thread on a free loopback port; returns it (``.stop()`` to end)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per AWS call drowns the API's logs
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    use_fake_credentials(f"http://127.0.0.1:{port}")
    return server


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

    Returns ``{logical_id: local name}`` for resolving ``!Ref`` in function environments.
    """
    names = local_resource_names()
    dynamodb = boto3.client("dynamodb")
    for logical_id, res in resources("AWS::DynamoDB::Table").items():
        props = res["Properties"]
        dynamodb.create_table(**_table_arguments(names[logical_id], props))
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=names[logical_id],
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
    s3 = boto3.client("s3")
    for logical_id in resources("AWS::S3::Bucket"):
        s3.create_bucket(Bucket=names[logical_id])
    return names
