"""DynamoDB and S3 as the stores use them, asserted alike on moto and on the local store behind `make run`.

Each test runs twice (``[moto]``, ``[local]``): whatever the local store answers, moto (the
reference the rest of the suite runs on) answers the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from moto import mock_aws

from local.endpoint import LocalAws
from reco.stores.aws import reset_clients

TABLE = "Contract"


def create_table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "shard", "AttributeType": "S"},
            {"AttributeName": "rank", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_shard",
                "KeySchema": [
                    {"AttributeName": "shard", "KeyType": "HASH"},
                    {"AttributeName": "rank", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


@pytest.fixture(params=["moto", "local"])
def table(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A boto3 Table on moto or on the local store (a fresh temporary folder)."""
    if request.param == "moto":
        with mock_aws():
            reset_clients()
            create_table(boto3.client("dynamodb"))
            yield boto3.resource("dynamodb").Table(TABLE)
    else:
        local_aws = LocalAws(None)
        local_aws.install()
        reset_clients()
        try:
            create_table(boto3.client("dynamodb"))
            yield boto3.resource("dynamodb").Table(TABLE)
        finally:
            local_aws.uninstall()
            local_aws.close()
    reset_clients()


def moto_differs(request: pytest.FixtureRequest, how: str) -> None:
    """Where moto is known to answer otherwise than DynamoDB, only the local store is held to DynamoDB's answer."""
    if request.node.callspec.params.get("table") == "moto":
        pytest.xfail(f"moto differs from DynamoDB here: {how}")


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response  # type: ignore[no-any-return]


def code_of(call: Any, **kwargs: Any) -> str:
    return str(error_of(call, **kwargs)["Error"]["Code"])


# ------------------------------------------------------------------------------------------ items
def test_every_attribute_type_reads_back_as_written(table: Any, request: pytest.FixtureRequest) -> None:
    moto_differs(request, "it answers numbers as sent (1.50), DynamoDB normalised (1.5)")
    item = {
        "pk": "p",
        "sk": "1",
        "s": "héllo ✓",
        "n": Decimal("1.50"),
        "big": Decimal("12345678901234567890123456789012345678"),
        "neg": Decimal("-0.001"),
        "b": b"\x00\xffbytes",
        "yes": True,
        "none": None,
        "list": [Decimal(1), "two", {"three": [True]}],
        "map": {"nested": {"deeper": Decimal(3)}},
        "ss": {"a", "b"},
        "ns": {Decimal(1), Decimal("2.5")},
        "bs": {b"x", b"y"},
        "empty": "",
    }
    table.put_item(Item=item)
    stored = table.get_item(Key={"pk": "p", "sk": "1"}, ConsistentRead=True)["Item"]
    assert stored["n"] == Decimal("1.5") and str(stored["n"]) == "1.5"  # numbers come back normalised
    assert stored["b"].value == b"\x00\xffbytes"
    assert stored["bs"] == {boto3.dynamodb.types.Binary(b"x"), boto3.dynamodb.types.Binary(b"y")}
    for name in ("s", "big", "neg", "yes", "none", "list", "map", "ss", "ns", "empty"):
        assert stored[name] == item[name], name


def test_a_missing_item_reads_as_no_item(table: Any) -> None:
    assert "Item" not in table.get_item(Key={"pk": "p", "sk": "nope"})


def test_a_put_that_fails_its_condition_changes_nothing(table: Any) -> None:
    table.put_item(Item={"pk": "p", "sk": "1", "v": 1})
    response = error_of(
        table.put_item,
        Item={"pk": "p", "sk": "1", "v": 2},
        ConditionExpression="attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    assert response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert response["Item"]["v"] == {"N": "1"}
    assert table.get_item(Key={"pk": "p", "sk": "1"})["Item"]["v"] == 1


def test_conditions_compare_by_type_and_treat_missing_attributes_as_not_equal(
    table: Any, request: pytest.FixtureRequest
) -> None:
    moto_differs(request, "comparing a number with a string raises inside moto")
    table.put_item(Item={"pk": "p", "sk": "1", "v": 10, "s": "abc"})

    def passes(condition: Any) -> bool:
        try:
            table.put_item(Item={"pk": "p", "sk": "1", "v": 10, "s": "abc"}, ConditionExpression=condition)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False
        return True

    assert passes(Attr("v").gt(9) & Attr("v").lte(10))
    assert not passes(Attr("v").gt("9"))  # a number is never greater than a string
    assert passes(Attr("missing").ne(1))
    assert not passes(Attr("missing").eq(1))
    assert passes(Attr("s").begins_with("ab") & Attr("s").contains("bc"))
    assert passes(Attr("v").between(1, 10) & Attr("v").is_in([3, 10]))
    assert passes(Attr("s").size().eq(3) & Attr("v").attribute_type("N"))
    assert passes(~Attr("v").lt(5) | Attr("missing").exists())


def test_update_expressions_set_add_remove_and_answer_what_changed(table: Any) -> None:
    table.put_item(Item={"pk": "p", "sk": "1", "count": 1, "tags": {"a"}, "gone": "x", "list": [1]})
    answer = table.update_item(
        Key={"pk": "p", "sk": "1"},
        UpdateExpression="SET #n = if_not_exists(#n, :zero) + :one, #l = list_append(#l, :more), m = :m "
        "ADD #c :one, tags :tags REMOVE gone",
        ExpressionAttributeNames={"#n": "new", "#c": "count", "#l": "list"},
        ExpressionAttributeValues={":zero": 0, ":one": 1, ":more": [2], ":tags": {"b"}, ":m": {"k": "v"}},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert answer == {
        "pk": "p",
        "sk": "1",
        "count": 2,
        "new": 1,
        "tags": {"a", "b"},
        "list": [1, 2],
        "m": {"k": "v"},
    }
    updated = table.update_item(
        Key={"pk": "p", "sk": "1"},
        UpdateExpression="SET m.k = :w",
        ExpressionAttributeValues={":w": "w"},
        ReturnValues="UPDATED_OLD",
    )["Attributes"]
    assert updated == {"m": {"k": "v"}}


def test_an_update_creates_a_missing_item_unless_its_condition_says_otherwise(table: Any) -> None:
    table.update_item(
        Key={"pk": "p", "sk": "new"}, UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": 5}
    )
    assert table.get_item(Key={"pk": "p", "sk": "new"})["Item"] == {"pk": "p", "sk": "new", "n": 5}
    assert (
        code_of(
            table.update_item,
            Key={"pk": "p", "sk": "other"},
            UpdateExpression="SET v = :v",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":v": 1},
        )
        == "ConditionalCheckFailedException"
    )
    assert "Item" not in table.get_item(Key={"pk": "p", "sk": "other"})


def test_an_update_may_not_change_a_key(table: Any) -> None:
    table.put_item(Item={"pk": "p", "sk": "1"})
    assert (
        code_of(
            table.update_item,
            Key={"pk": "p", "sk": "1"},
            UpdateExpression="SET sk = :v",
            ExpressionAttributeValues={":v": "2"},
        )
        == "ValidationException"
    )


def test_delete_answers_the_old_item(table: Any) -> None:
    table.put_item(Item={"pk": "p", "sk": "1", "v": 1})
    assert table.delete_item(Key={"pk": "p", "sk": "1"}, ReturnValues="ALL_OLD")["Attributes"]["v"] == 1
    assert "Attributes" not in table.delete_item(Key={"pk": "p", "sk": "1"}, ReturnValues="ALL_OLD")


# ------------------------------------------------------------------------------------------ refusals
@pytest.mark.parametrize(
    "arguments",
    [
        {
            "Item": {"pk": "p", "sk": "1", "status": 1},
            "ConditionExpression": "status = :v",
            "ExpressionAttributeValues": {":v": 1},
        },
        {
            "Item": {"pk": "p", "sk": "1"},
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":unused": 1},
        },
        {
            "Item": {"pk": "p", "sk": "1"},
            "ConditionExpression": "attribute_exists(#x)",
            "ExpressionAttributeNames": {"#y": "pk"},
        },
        {"Item": {"pk": "", "sk": "1"}},
        {"Item": {"pk": "p"}},
        {"Item": {"pk": "p", "sk": "1", "shard": 5}},  # an index key of the wrong type
        {"Item": {"pk": "p", "sk": "1", "blob": "x" * 410_000}},
        {"Item": {"pk": "p", "sk": "1"}, "ConditionExpression": "attribute_exists(pk"},
    ],
    ids=[
        "reserved-word",
        "unused-value",
        "undefined-name",
        "empty-key",
        "missing-key",
        "index-key-type",
        "too-big",
        "syntax",
    ],
)
def test_malformed_writes_are_validation_errors(
    table: Any, arguments: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    if request.node.callspec.id.split("-", 1)[1] in ("unused-value", "undefined-name", "index-key-type", "syntax"):
        moto_differs(request, "it accepts unused or undefined placeholders and index keys of the wrong type")
    assert code_of(table.put_item, **arguments) == "ValidationException"


def test_batches_and_transactions_keep_to_their_limits(table: Any, request: pytest.FixtureRequest) -> None:
    moto_differs(request, "it accepts a 26-item BatchWriteItem")
    client = table.meta.client
    puts = [{"PutRequest": {"Item": {"pk": "p", "sk": str(n)}}} for n in range(26)]
    assert code_of(client.batch_write_item, RequestItems={TABLE: puts}) == "ValidationException"
    twice = [{"PutRequest": {"Item": {"pk": "p", "sk": "1"}}}] * 2
    assert code_of(client.batch_write_item, RequestItems={TABLE: twice}) == "ValidationException"
    keys = [{"pk": "p", "sk": str(n)} for n in range(101)]
    assert code_of(client.batch_get_item, RequestItems={TABLE: {"Keys": keys}}) == "ValidationException"
    writes = [{"Put": {"TableName": TABLE, "Item": {"pk": "p", "sk": str(n)}}} for n in range(101)]
    assert code_of(client.transact_write_items, TransactItems=writes) == "ValidationException"
    same = [{"Put": {"TableName": TABLE, "Item": {"pk": "p", "sk": "1"}}}] * 2
    assert code_of(client.transact_write_items, TransactItems=same) == "ValidationException"
    assert table.scan()["Count"] == 0


# ------------------------------------------------------------------------------------------ batches and transactions
def test_a_batch_writes_and_deletes_and_a_batch_get_reads_what_exists(table: Any) -> None:
    with table.batch_writer() as batch:
        for n in range(60):
            batch.put_item(Item={"pk": "p", "sk": f"{n:02d}"})
        batch.delete_item(Key={"pk": "p", "sk": "00"})
    keys = [{"pk": "p", "sk": f"{n:02d}"} for n in range(0, 100, 10)]
    found = table.meta.client.batch_get_item(RequestItems={TABLE: {"Keys": keys}})
    assert sorted(item["sk"] for item in found["Responses"][TABLE]) == ["10", "20", "30", "40", "50"]
    assert found["UnprocessedKeys"] == {}


def test_a_cancelled_transaction_names_each_failed_condition_and_writes_nothing(table: Any) -> None:
    table.put_item(Item={"pk": "p", "sk": "taken"})
    writes = [
        {
            "Put": {
                "TableName": TABLE,
                "Item": {"pk": "p", "sk": "free"},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": TABLE,
                "Item": {"pk": "p", "sk": "taken"},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Update": {
                "TableName": TABLE,
                "Key": {"pk": "p", "sk": "x"},
                "UpdateExpression": "SET v = :v",
                "ExpressionAttributeValues": {":v": 1},
            }
        },
    ]
    response = error_of(table.meta.client.transact_write_items, TransactItems=writes)
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert [reason["Code"] for reason in response["CancellationReasons"]] == ["None", "ConditionalCheckFailed", "None"]
    assert sorted(item["sk"] for item in table.scan()["Items"]) == ["taken"]
    table.meta.client.transact_write_items(TransactItems=[writes[0], writes[2]])
    assert sorted(item["sk"] for item in table.scan()["Items"]) == ["free", "taken", "x"]


# ------------------------------------------------------------------------------------------ queries
def fill(table: Any, count: int = 30) -> None:
    with table.batch_writer() as batch:
        for n in range(count):
            batch.put_item(Item={"pk": "p", "sk": f"{n:03d}", "n": n, "shard": f"s{n % 3}", "rank": Decimal(n) / 2})
        batch.put_item(Item={"pk": "other", "sk": "000", "n": -1})  # another partition, in no index


def test_key_conditions_select_a_range_in_order(table: Any) -> None:
    fill(table)

    def sks(condition: Any, forward: bool = True) -> list[str]:
        items = table.query(KeyConditionExpression=condition, ScanIndexForward=forward)["Items"]
        return [item["sk"] for item in items]

    assert sks(Key("pk").eq("p") & Key("sk").begins_with("00")) == [f"{n:03d}" for n in range(10)]
    assert sks(Key("pk").eq("p") & Key("sk").between("010", "012")) == ["010", "011", "012"]
    assert sks(Key("pk").eq("p") & Key("sk").gt("027"), forward=False) == ["029", "028"]
    assert sks(Key("pk").eq("p") & Key("sk").lte("001")) == ["000", "001"]
    assert sks(Key("pk").eq("nobody")) == []


def test_pages_of_a_query_return_every_item_once_and_filters_do_not_shorten_the_scan(table: Any) -> None:
    fill(table)
    seen: list[str] = []
    request: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq("p"),
        "FilterExpression": Attr("n").gte(5),
        "Limit": 7,
    }
    pages = 0
    while True:
        page = table.query(**request)
        pages += 1
        assert page["ScannedCount"] <= 7 and page["Count"] <= page["ScannedCount"]
        seen += [item["sk"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert seen == [f"{n:03d}" for n in range(5, 30)]
    assert pages >= 5


def test_a_global_index_holds_items_with_its_keys_in_index_order(table: Any) -> None:
    fill(table)
    request: dict[str, Any] = {"IndexName": "by_shard", "KeyConditionExpression": Key("shard").eq("s1"), "Limit": 4}
    ranks: list[Decimal] = []
    while True:
        page = table.query(**request)
        ranks += [item["rank"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        assert set(page["LastEvaluatedKey"]) == {"pk", "sk", "shard", "rank"}
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert ranks == [Decimal(n) / 2 for n in range(1, 30, 3)]
    later = table.query(IndexName="by_shard", KeyConditionExpression=Key("shard").eq("s1") & Key("rank").gt(10))
    assert [item["n"] for item in later["Items"]] == [22, 25, 28]


def test_an_item_leaves_the_index_when_its_index_key_is_removed(table: Any) -> None:
    fill(table, 3)
    table.update_item(
        Key={"pk": "p", "sk": "001"}, UpdateExpression="REMOVE #s", ExpressionAttributeNames={"#s": "shard"}
    )
    assert table.query(IndexName="by_shard", KeyConditionExpression=Key("shard").eq("s1"))["Items"] == []


def test_consistent_reads_of_a_global_index_are_refused(table: Any) -> None:
    assert (
        code_of(table.query, IndexName="by_shard", KeyConditionExpression=Key("shard").eq("s1"), ConsistentRead=True)
        == "ValidationException"
    )


def test_a_scan_reads_every_partition_and_a_projection_keeps_the_named_attributes(table: Any) -> None:
    fill(table, 5)
    items = table.scan(ProjectionExpression="sk, #n", ExpressionAttributeNames={"#n": "n"})["Items"]
    assert sorted(items, key=lambda item: item["n"]) == [{"sk": "000", "n": -1}] + [
        {"sk": f"{n:03d}", "n": n} for n in range(5)
    ]


def test_number_keys_sort_by_value(table: Any) -> None:
    values = ["-10", "-2.5", "-0.001", "0", "0.001", "2", "10", "1E+3"]
    with table.batch_writer() as batch:
        for n, value in enumerate(reversed(values)):
            batch.put_item(Item={"pk": f"n{n}", "sk": "x", "shard": "all", "rank": Decimal(value)})
    items = table.query(IndexName="by_shard", KeyConditionExpression=Key("shard").eq("all"))["Items"]
    assert [item["rank"] for item in items] == [Decimal(value) for value in values]


# ------------------------------------------------------------------------------------------ S3, as artifacts use it
@pytest.fixture(params=["moto", "local"])
def s3(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "moto":
        with mock_aws():
            client = boto3.client("s3")
            client.create_bucket(Bucket="artifacts")
            yield client
        return
    local_aws = LocalAws(None)
    local_aws.install()
    try:
        client = boto3.client("s3")
        client.create_bucket(Bucket="artifacts")
        yield client
    finally:
        local_aws.uninstall()
        local_aws.close()


def test_objects_are_written_read_listed_and_deleted(s3: Any) -> None:
    blob = bytes(range(256)) * 4000
    s3.put_object(Bucket="artifacts", Key="t/models/m/v1.npz", Body=blob, ContentType="application/x-npz")
    s3.put_object(Bucket="artifacts", Key="t/models/m/v2.npz", Body=b"two")
    s3.put_object(Bucket="artifacts", Key="other/x", Body=b"x")
    got = s3.get_object(Bucket="artifacts", Key="t/models/m/v1.npz")
    assert got["Body"].read() == blob and got["ContentType"] == "application/x-npz"
    assert s3.head_object(Bucket="artifacts", Key="t/models/m/v2.npz")["ContentLength"] == 3
    listed = s3.list_objects_v2(Bucket="artifacts", Prefix="t/models/")
    assert [entry["Key"] for entry in listed["Contents"]] == ["t/models/m/v1.npz", "t/models/m/v2.npz"]
    s3.delete_object(Bucket="artifacts", Key="t/models/m/v1.npz")
    assert error_of(s3.get_object, Bucket="artifacts", Key="t/models/m/v1.npz")["Error"]["Code"] == "NoSuchKey"
    assert error_of(s3.get_object, Bucket="missing", Key="k")["Error"]["Code"] == "NoSuchBucket"
    assert s3.get_object(Bucket="artifacts", Key="t/models/m/v2.npz", Range="bytes=1-")["Body"].read() == b"wo"


def test_listing_groups_by_delimiter_and_objects_keep_their_metadata_and_preconditions(s3: Any) -> None:
    for key in ("a/1", "a/2", "b/1", "c"):
        s3.put_object(Bucket="artifacts", Key=key, Body=key.encode(), Metadata={"origin": "test"})
    listed = s3.list_objects_v2(Bucket="artifacts", Delimiter="/")
    assert [entry["Key"] for entry in listed["Contents"]] == ["c"]
    assert [entry["Prefix"] for entry in listed["CommonPrefixes"]] == ["a/", "b/"]
    assert s3.head_object(Bucket="artifacts", Key="a/1")["Metadata"] == {"origin": "test"}
    assert error_of(s3.put_object, Bucket="artifacts", Key="c", Body=b"x", IfNoneMatch="*")["Error"]["Code"] in (
        "PreconditionFailed",
        "412",
    )
    assert s3.get_object(Bucket="artifacts", Key="c")["Body"].read() == b"c"


# ------------------------------------------------------------------------------------------ finer points
def test_updated_values_answer_only_the_updated_paths(table: Any) -> None:
    table.put_item(Item={"pk": "p", "sk": "1", "m": {"x": 1, "y": 2}})
    answer = table.update_item(
        Key={"pk": "p", "sk": "1"},
        UpdateExpression="SET m.x = :v",
        ExpressionAttributeValues={":v": 5},
        ReturnValues="UPDATED_NEW",
    )
    assert answer["Attributes"] == {"m": {"x": 5}}


def test_projections_merge_elements_of_one_list_and_refuse_overlaps(table: Any, request: pytest.FixtureRequest) -> None:
    moto_differs(request, "it accepts overlapping projection paths")
    table.put_item(Item={"pk": "p", "sk": "1", "l": [{"a": 1, "b": 2, "c": 3}, {"a": 4}], "m": {"x": 1}})
    item = table.get_item(Key={"pk": "p", "sk": "1"}, ProjectionExpression="l[0].a, l[0].b, l[1]")["Item"]
    assert item == {"l": [{"a": 1, "b": 2}, {"a": 4}]}
    assert code_of(table.get_item, Key={"pk": "p", "sk": "1"}, ProjectionExpression="m, m.x") == "ValidationException"


def test_the_size_of_a_binary_value_is_its_byte_count(table: Any) -> None:
    table.put_item(Item={"pk": "p", "sk": "1", "b": b"\x01"})
    found = table.query(KeyConditionExpression=Key("pk").eq("p"), FilterExpression=Attr("b").size().eq(1))
    assert found["Count"] == 1


def test_an_item_a_transaction_cannot_write_cancels_it_with_a_validation_reason(
    table: Any, request: pytest.FixtureRequest
) -> None:
    moto_differs(request, "it answers a plain ValidationException")
    writes = [
        {"Put": {"TableName": TABLE, "Item": {"pk": "p", "sk": "ok"}}},
        {
            "Update": {
                "TableName": TABLE,
                "Key": {"pk": "p", "sk": "bad"},
                "UpdateExpression": "SET nope.x = :v",
                "ExpressionAttributeValues": {":v": 1},
            }
        },
    ]
    response = error_of(table.meta.client.transact_write_items, TransactItems=writes)
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert [reason["Code"] for reason in response["CancellationReasons"]] == ["None", "ValidationError"]
    assert table.scan()["Count"] == 0


def test_a_client_token_is_remembered_only_for_a_transaction_that_succeeded(table: Any) -> None:
    client = table.meta.client
    guarded = [
        {
            "Put": {
                "TableName": TABLE,
                "Item": {"pk": "p", "sk": "1"},
                "ConditionExpression": "attribute_exists(pk)",
            }
        }
    ]
    assert code_of(client.transact_write_items, TransactItems=guarded, ClientRequestToken="t1") == (
        "TransactionCanceledException"
    )
    table.put_item(Item={"pk": "p", "sk": "1", "v": 1})
    client.transact_write_items(TransactItems=guarded, ClientRequestToken="t1")  # applied now: v is gone
    assert "v" not in table.get_item(Key={"pk": "p", "sk": "1"})["Item"]


def test_a_transactional_read_answers_each_get_in_order(table: Any, request: pytest.FixtureRequest) -> None:
    moto_differs(request, "it ignores a Get's ProjectionExpression")
    table.put_item(Item={"pk": "p", "sk": "1", "v": 1, "w": 2})
    gets = [
        {"Get": {"TableName": TABLE, "Key": {"pk": "p", "sk": "1"}, "ProjectionExpression": "v"}},
        {"Get": {"TableName": TABLE, "Key": {"pk": "p", "sk": "missing"}}},
    ]
    answer = table.meta.client.transact_get_items(TransactItems=gets)["Responses"]
    assert [response.get("Item") for response in answer] == [{"v": 1}, None]
