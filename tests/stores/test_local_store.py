"""What only the local store promises: data kept across restarts, expired items swept, safe concurrent
writers, atomic object overwrites, one answer over HTTP and in-process, one runner per folder."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from local.aws import reconcile_indexes
from local.dynamodb.items import prepared, put_write
from local.endpoint import LocalAws
from reco.stores.aws import reset_clients

TABLE = "Kept"
KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
ATTRIBUTES = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]
BY_GROUP = {
    "IndexName": "by_group",
    "KeySchema": [{"AttributeName": "group", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "Projection": {"ProjectionType": "ALL"},
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalAws]:
    local_aws = open_store(tmp_path)
    yield local_aws
    close_store(local_aws)


def open_store(folder: Path) -> LocalAws:
    local_aws = LocalAws(folder)
    local_aws.install()
    reset_clients()
    return local_aws


def close_store(local_aws: LocalAws) -> None:
    local_aws.uninstall()
    local_aws.close()
    reset_clients()


def create(client: Any, indexes: list[dict[str, Any]] | None = None, ttl: bool = False) -> None:
    definitions = [*ATTRIBUTES, {"AttributeName": "group", "AttributeType": "S"}] if indexes else ATTRIBUTES
    extra = {"GlobalSecondaryIndexes": indexes} if indexes else {}
    client.create_table(
        TableName=TABLE, KeySchema=KEY_SCHEMA, AttributeDefinitions=definitions, BillingMode="PAY_PER_REQUEST", **extra
    )
    if ttl:
        client.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"AttributeName": "expires_at", "Enabled": True}
        )


def test_tables_items_indexes_and_objects_survive_a_restart(tmp_path: Path) -> None:
    first = open_store(tmp_path)
    create(boto3.client("dynamodb"), [BY_GROUP], ttl=True)
    boto3.resource("dynamodb").Table(TABLE).put_item(Item={"pk": "p", "sk": "1", "group": "g"})
    boto3.client("s3").create_bucket(Bucket="kept")
    boto3.client("s3").put_object(Bucket="kept", Key="a/b", Body=b"bytes")
    close_store(first)

    second = open_store(tmp_path)
    try:
        table = boto3.resource("dynamodb").Table(TABLE)
        assert table.get_item(Key={"pk": "p", "sk": "1"})["Item"] == {"pk": "p", "sk": "1", "group": "g"}
        assert table.query(IndexName="by_group", KeyConditionExpression=Key("group").eq("g"))["Count"] == 1
        ttl = boto3.client("dynamodb").describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
        assert boto3.client("s3").get_object(Bucket="kept", Key="a/b")["Body"].read() == b"bytes"
    finally:
        close_store(second)


def test_a_folder_is_held_by_one_runner_at_a_time(store: LocalAws) -> None:
    with pytest.raises(SystemExit, match="in use by another runner"):
        LocalAws(store.data_dir)


def test_an_index_added_to_a_table_with_items_is_filled_from_them(store: LocalAws) -> None:
    client = boto3.client("dynamodb")
    create(client)
    table = boto3.resource("dynamodb").Table(TABLE)
    for n in range(5):
        table.put_item(Item={"pk": "p", "sk": str(n), "group": "even" if n % 2 == 0 else "odd"})
    wanted = {
        "TableName": TABLE,
        "AttributeDefinitions": [*ATTRIBUTES, {"AttributeName": "group", "AttributeType": "S"}],
        "GlobalSecondaryIndexes": [BY_GROUP],
    }
    reconcile_indexes(client, wanted)  # what provisioning does when template.yaml gained an index
    found = table.query(IndexName="by_group", KeyConditionExpression=Key("group").eq("even"))
    assert [item["sk"] for item in found["Items"]] == ["0", "2", "4"]
    with pytest.raises(ClientError, match="already exists"):
        client.update_table(
            TableName=TABLE,
            AttributeDefinitions=wanted["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": BY_GROUP}],
        )


def test_a_write_prepared_before_an_index_change_lands_in_the_new_index(store: LocalAws) -> None:
    client = boto3.client("dynamodb")
    create(client)
    database = store.dynamodb.database
    request = {"TableName": TABLE, "Item": {"pk": {"S": "p"}, "sk": {"S": "1"}, "group": {"S": "g"}}}
    attempts = []

    def prepare() -> Any:
        write = put_write(database, request)
        if not attempts:  # the table changes between preparing and writing
            client.update_table(
                TableName=TABLE,
                AttributeDefinitions=[*ATTRIBUTES, {"AttributeName": "group", "AttributeType": "S"}],
                GlobalSecondaryIndexUpdates=[{"Create": BY_GROUP}],
            )
        attempts.append(write)
        return write

    prepared(database, prepare, lambda write, connection: write.apply(database, connection, None))
    assert len(attempts) == 2
    table = boto3.resource("dynamodb").Table(TABLE)
    assert table.query(IndexName="by_group", KeyConditionExpression=Key("group").eq("g"))["Count"] == 1


def test_expired_items_are_swept_a_day_after_their_time(store: LocalAws) -> None:
    create(boto3.client("dynamodb"), ttl=True)
    table = boto3.resource("dynamodb").Table(TABLE)
    now = int(time.time())
    table.put_item(Item={"pk": "p", "sk": "long-gone", "expires_at": now - 3 * 86_400})
    table.put_item(Item={"pk": "p", "sk": "just-expired", "expires_at": now - 60})  # readers filter it out
    table.put_item(Item={"pk": "p", "sk": "alive", "expires_at": now + 86_400})
    table.put_item(Item={"pk": "p", "sk": "forever"})
    assert store.dynamodb.delete_expired() == 1
    assert sorted(item["sk"] for item in table.scan()["Items"]) == ["alive", "forever", "just-expired"]


def test_of_concurrent_conditional_writes_to_one_key_exactly_one_wins(store: LocalAws) -> None:
    create(boto3.client("dynamodb"))
    table = boto3.resource("dynamodb").Table(TABLE)
    start = threading.Barrier(8)

    def claim(worker: int) -> bool:
        start.wait()
        try:
            table.put_item(
                Item={"pk": "p", "sk": "lock", "owner": worker}, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(claim, range(8)))
    assert wins.count(True) == 1
    assert table.get_item(Key={"pk": "p", "sk": "lock"})["Item"]["owner"] == wins.index(True)


def test_readers_see_an_overwritten_object_whole_old_or_whole_new(store: LocalAws) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="race")
    versions = [bytes([n]) * (1000 * (n + 1)) for n in range(4)]
    s3.put_object(Bucket="race", Key="k", Body=versions[0])
    done = threading.Event()
    problems: list[str] = []

    def writer(n: int) -> None:
        while not done.is_set():
            s3.put_object(Bucket="race", Key="k", Body=versions[n])

    def reader() -> None:
        for _ in range(200):
            got = s3.get_object(Bucket="race", Key="k")
            body = got["Body"].read()
            if body not in versions or got["ETag"].strip('"') != hashlib.md5(body, usedforsecurity=False).hexdigest():
                problems.append(f"{len(body)} bytes, ETag {got['ETag']}")

    writers = [threading.Thread(target=writer, args=(n,)) for n in (1, 2)]
    for thread in writers:
        thread.start()
    reader()
    done.set()
    for thread in writers:
        thread.join()
    assert problems == []


def test_http_and_in_process_calls_get_the_same_answer(store: LocalAws) -> None:
    create(boto3.client("dynamodb"))
    boto3.resource("dynamodb").Table(TABLE).put_item(Item={"pk": "p", "sk": "1", "n": 3})
    endpoint = store.serve()
    body = json.dumps({"TableName": TABLE, "Key": {"pk": {"S": "p"}, "sk": {"S": "1"}}}).encode()
    headers = {"X-Amz-Target": "DynamoDB_20120810.GetItem", "Content-Type": "application/x-amz-json-1.0"}
    over_http = urllib.request.urlopen(urllib.request.Request(endpoint, data=body, headers=headers), timeout=5).read()
    in_process = store.handle("POST", endpoint, {k.lower(): v for k, v in headers.items()}, body)
    assert in_process == (200, {"Content-Type": "application/x-amz-json-1.0"}, over_http)
    assert json.loads(over_http) == {"Item": {"pk": {"S": "p"}, "sk": {"S": "1"}, "n": {"N": "3"}}}
