"""bench.cost's pure pieces: DynamoDB item sizes and request units, billed duration, $ per million, the memory rule."""

from __future__ import annotations

from typing import Any

import pytest

from bench.cost import (
    AwsMeter,
    billed_ms,
    call_latency_ms,
    choose_memory,
    dynamodb_per_million,
    http_api_per_million,
    item_bytes,
    lambda_per_million,
    logs_per_million,
    number_bytes,
    read_units,
    write_units,
)


def test_billed_duration_scales_the_cpu_part_below_one_vcpu() -> None:
    assert billed_ms(100, 10, 1769) == 110
    assert billed_ms(100, 10, 512) == 346 + 10  # ceil(100 x 1769 / 512) = ceil(345.51)
    assert billed_ms(100, 10, 1024) == 173 + 10  # ceil(172.75)
    assert billed_ms(100, 10, 3008) == 110  # no faster than one vCPU: the request is single-threaded
    assert billed_ms(0.2, 0, 1769) == 1  # rounded up to 1 ms
    assert billed_ms(5.0, 5.0, 1769) == 10  # whole milliseconds stay as they are


def test_call_latency_adds_each_calls_assumed_service_time() -> None:
    calls = {"dynamodb.GetItem": 2, "dynamodb.TransactWriteItems": 1, "s3.GetObject": 1, "lambda.Invoke": 1}
    assert call_latency_ms(calls) == 2 * 5 + 10 + 30 + 20
    assert call_latency_ms({"dynamodb.Query": 0.5}) == 2.5  # a call every other request


def test_lambda_dollars_per_million_against_hand_computed_values() -> None:
    # 100 ms at 1 GB: 0.1 GB-s x $0.0000166667 = $1.66667 per million, + $0.20 of requests
    assert lambda_per_million(100, 1024) == pytest.approx(1.86667, abs=1e-5)
    # 356 ms at 512 MB: 0.178 GB-s x $0.0000166667 = $2.96667 per million, + $0.20
    assert lambda_per_million(356, 512) == pytest.approx(3.16667, abs=1e-5)
    # 110 ms at 1,769 MB on arm64: 0.110 x 1769 / 1024 = 0.190029 GB-s x $0.0000133334 = $2.53373 per million
    assert lambda_per_million(110, 1769, "arm64") == pytest.approx(2.73373, abs=1e-5)


def test_other_services_dollars_per_million() -> None:
    assert http_api_per_million(2_000, 10_000) == 1.00
    assert http_api_per_million(512 * 1024, 100) == 1.00
    assert http_api_per_million(100, 600 * 1024) == 2.00  # metered per 512 KB
    assert dynamodb_per_million(8.5, 2) == pytest.approx(8.5 * 0.125 + 2 * 0.625)  # 1.0625 + 1.25
    assert dynamodb_per_million(0, 21) == pytest.approx(13.125)
    assert logs_per_million(1024) == pytest.approx(1e6 * 1024 / 2**30 * 0.50)  # 0.4768…


def test_read_units_round_up_per_4_kb() -> None:
    assert read_units(0, consistent=True) == 1  # a read of nothing still costs the minimum
    assert read_units(4096, consistent=True) == 1
    assert read_units(4097, consistent=True) == 2
    assert read_units(10 * 1024, consistent=True) == 3  # rounded up to 12 KB
    assert read_units(3500, consistent=False) == 0.5  # eventually consistent: half
    assert read_units(10 * 1024, consistent=False) == 1.5
    assert read_units(8 * 1024, consistent=True, transactional=True) == 4


def test_write_units_round_up_per_1_kb() -> None:
    assert write_units(0) == 1
    assert write_units(1024) == 1
    assert write_units(1025) == 2
    assert write_units(2560) == 3  # 2.5 KB
    assert write_units(1500, transactional=True) == 4


def test_item_sizes_follow_dynamodbs_rules() -> None:
    assert number_bytes("123.45") == 4  # 5 significant digits: 3 bytes, + 1
    assert number_bytes("-0.0500") == 2  # leading and trailing zeros trimmed: "5"
    assert number_bytes("1200") == 2
    item = {
        "pk": {"S": "abc"},  # 2 + 3
        "n": {"N": "123.45"},  # 1 + 4
        "b": {"BOOL": True},  # 1 + 1
        "l": {"L": [{"S": "x"}, {"N": "1"}]},  # 1 + 3 + (1 + 1) + (1 + 2)
        "m": {"M": {"k": {"S": "vv"}}},  # 1 + 3 + (1 + 1 + 2)
        "é": {"S": "é"},  # UTF-8 bytes: 2 + 2
        "bin": {"B": "AAECAw=="},  # 3 + the 4 raw bytes, not the base64 text
    }
    assert item_bytes(item) == 5 + 5 + 2 + 9 + 8 + 4 + 7
    assert item_bytes(None) == 0


class FakeInspector:
    """A DynamoDB client for AwsMeter: one table with a GSI on ``g``, items held in a dict."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {
            "Table": {
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "GlobalSecondaryIndexes": [
                    {"KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}
                ],
            }
        }

    def get_item(self, TableName: str, Key: dict[str, Any], ConsistentRead: bool) -> dict[str, Any]:
        item = self.items.get(Key["pk"]["S"])
        return {"Item": item} if item else {}


def blob(size: int) -> dict[str, str]:
    return {"S": "x" * size}


def test_the_meter_charges_the_larger_image_and_the_index_entries() -> None:
    meter = AwsMeter()
    meter.inspector = inspector = FakeInspector()
    inspector.items["a"] = {"pk": {"S": "a"}, "v": blob(1500)}  # 1,504 bytes, not in the index (no g)
    new = {"pk": {"S": "a"}, "g": {"S": "x"}, "v": blob(100)}
    request = {"TableName": "T", "Item": new}
    meter._account("PutItem", request, {}, meter._old_images("PutItem", request), "")
    assert meter.wru == 2  # the old 1.5 KB item is the larger
    assert meter.index_wru == 1  # the new item enters the index

    meter.wru = meter.index_wru = 0
    request = {"TransactItems": [{"Put": {"TableName": "T", "Item": {"pk": {"S": f"t{k}"}}}} for k in range(2)]}
    meter._account("TransactWriteItems", request, {}, meter._old_images("TransactWriteItems", request), "")
    assert (meter.wru, meter.index_wru) == (4, 0)  # 2 items x 1 KB x 2 (a transaction); no g: no index entry

    meter.wru = 0
    refused = {"TableName": "T", "Item": new, "ConditionExpression": "attribute_not_exists(pk)"}
    meter._account("PutItem", refused, {}, meter._old_images("PutItem", refused), "ConditionalCheckFailedException")
    assert meter.wru == 2  # a refused write is charged on the item it found


def test_the_meter_sizes_reads_per_item_and_per_query() -> None:
    meter = AwsMeter()
    meter.inspector = FakeInspector()
    items = [{"pk": {"S": "p"}, "v": blob(1700)} for _ in range(3)]  # 3 x 1,704 bytes: 5,112 in all
    meter._account("Query", {"TableName": "T", "ConsistentRead": True}, {"Items": items, "Count": 3}, [], "")
    assert meter.rru == 2  # one 4 KB rounding for the whole query
    meter._account("Query", {"TableName": "T", "IndexName": "g"}, {"Items": items, "Count": 3}, [], "")
    assert meter.rru == 2 + 1  # an index is read eventually consistent: half
    batch = {"RequestItems": {"T": {"Keys": [{"pk": {"S": "p"}}] * 4, "ConsistentRead": True}}}
    meter._account("BatchGetItem", batch, {"Responses": {"T": items}}, [], "")
    assert meter.rru == 3 + 3 + 1  # each item rounded on its own, the missing key at the minimum
    meter._account("GetItem", {"TableName": "T", "Key": {"pk": {"S": "q"}}}, {}, [], "")
    assert meter.rru == 7.5  # not found, eventually consistent: half a unit


@pytest.mark.parametrize(
    ("durations", "peak_mb", "holds_models", "expected"),
    [
        ({512: 30, 1024: 20, 1769: 18}, 100, False, 1024),  # 512 MB is over 1.5x 18 ms
        ({512: 25, 1024: 20, 1769: 18}, 100, False, 512),  # within 1.5x and the cheapest
        ({512: 25, 1024: 20, 1769: 18}, 100, True, 1024),  # models need room for a second version
        ({512: 25, 1024: 20, 1769: 18}, 400, False, 1024),  # 1.5 x 400 MB does not fit in 512
        ({512: 25, 1024: 13, 1769: 8}, 100, False, 1769),  # CPU-bound: only one vCPU keeps within 1.5x
    ],
)
def test_memory_choice(durations: dict[int, int], peak_mb: float, holds_models: bool, expected: int) -> None:
    assert choose_memory(durations, peak_mb, holds_models).memory_mb == expected
