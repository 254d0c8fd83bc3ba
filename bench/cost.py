"""Cost per request: each function's warm request, measured, priced at 512 / 1,024 / 1,769 MB.

One typical request per function (the ``events/`` sample of its main route, pointed at the demo
tenant's data; catalog has a read and a write row), served through the function's Lambda handler
(Mangum, payload 2.0) in a process of its own. DynamoDB and S3 run in another process (``--aws``:
the local runner's store by default, or moto's server), created from template.yaml and seeded with
``make run``'s demo tenant and its trained model, so the CPU time counted is the function's only:

- warm-up (``--warmup``): the first request loads the model from S3 and creates the clients;
- timed pass (``--requests``, default 100): per request, CPU time of the function's process
  (``time.process_time``), wall time, AWS calls (botocore ``after-call`` events on the clients the
  stores create), bytes logged;
- sizing pass (``--accounted``, default 12): the same requests again, each DynamoDB call sized from
  the items on the wire and their old and new images (read by a client of another session), giving
  read and write request units by DynamoDB's on-demand rules; S3 requests counted;
- peak RSS of the function's process after the timed pass.

Billed duration at a memory size: the measured CPU time, scaled by ``max(1, 1769 / MB)`` (Lambda
gives CPU in proportion to memory, one vCPU at 1,769 MB), plus an assumed service latency per AWS
call, rounded up to 1 ms. Prices, latencies and their sources are the constants below. The training
function is not measured: it is billed per training run, not per request.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from bench.runner import stdout_fd_to, wait_or_kill

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------------- prices
# us-east-1 list prices, checked on 2026-12-08 against AWS's pricing pages and the AWS News Blog:
# Lambda (aws.amazon.com/lambda/pricing, first tier: 6 B GB-s/month on x86, 7.5 B on arm64),
# API Gateway HTTP API (aws.amazon.com/api-gateway/pricing, first 300 M requests/month, metered per
# 512 KB), DynamoDB on-demand (aws.amazon.com/dynamodb/pricing/on-demand, after the 50 % cut of
# 1 Nov 2024), S3 Standard requests and CloudWatch Logs standard ingestion.
PRICES_CHECKED = "2026-12-08"
LAMBDA_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
LAMBDA_PER_MILLION_REQUESTS = 0.20
HTTP_API_PER_MILLION_REQUESTS = 1.00
HTTP_API_METERING_BYTES = 512 * 1024
DYNAMODB_PER_MILLION_WRU = 0.625
DYNAMODB_PER_MILLION_RRU = 0.125
S3_PER_MILLION_GET = 0.40  # $0.0004 per 1,000 GET / HEAD / LIST
S3_PER_MILLION_PUT = 5.00  # $0.005 per 1,000 PUT / POST / COPY
LOGS_PER_GB_INGESTED = 0.50

# ------------------------------------------------------------------------------------ the duration model
FULL_VCPU_MB = 1769  # Lambda allocates CPU in proportion to memory: one full vCPU at 1,769 MB
MEMORY_SIZES = (512, 1024, 1769)
# Service time per AWS call, added to the billed duration. Assumptions, not measurements (moto's own
# latency says nothing about AWS's): DynamoDB answers in "single-digit milliseconds" (AWS), taken as
# 5 ms per call from a warm Lambda with a kept-alive connection; a transaction is two phases (prepare,
# commit), 10 ms; an S3 GET of a small object 30 ms to its last byte. The client side of every call
# (building, signing, sending, parsing) is in the measured CPU time already.
CALL_LATENCY_MS = {"dynamodb": 5.0, "dynamodb.TransactWriteItems": 10.0, "s3": 30.0}
OTHER_CALL_LATENCY_MS = 20.0
LATENCY_BOUND = 1.5  # a memory size qualifies when its billed duration is within 1.5x of 1,769 MB's
RSS_HEADROOM = 1.5  # ... and 1.5x the process's measured peak RSS fits in it
# Functions that load models keep room for a second model version loading beside the first: EASE at
# its default max_items (8,000) needs 883 MB to serve (README; reco.models.ease.memory_mb).
MODEL_FUNCTIONS = frozenset({"ranking", "recommendation", "lists", "customer", "chat"})

# ------------------------------------------------------------------------------------ DynamoDB capacity
READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024


def number_bytes(text: str) -> int:
    """DynamoDB's size of a number: 1 byte per two significant digits, plus 1."""
    digits = text.lstrip("+-").lower().split("e")[0].replace(".", "").strip("0")
    return math.ceil(len(digits) / 2) + 1


def value_bytes(value: Mapping[str, Any]) -> int:
    """Size of one attribute value in DynamoDB's wire format (``{"S": "..."}``, ``{"M": {...}}`` …)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return number_bytes(data)
    if kind == "B":
        return len(base64.b64decode(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in data)
    if kind == "NS":
        return sum(number_bytes(n) for n in data)
    if kind == "BS":
        return sum(len(base64.b64decode(b)) for b in data)
    if kind == "L":  # 3 bytes for the list, 1 per element
        return 3 + sum(1 + value_bytes(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_bytes(v) for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_bytes(item: Mapping[str, Any] | None) -> int:
    """An item's size: its attribute names and values (DynamoDB's 'item sizes and formats')."""
    return sum(len(name.encode()) + value_bytes(value) for name, value in (item or {}).items())


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """Read request units of one item read (GetItem, each BatchGetItem key) or one Query's total size:
    4 KB units, at least one; half for an eventually consistent read, twice for a transactional one."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return units * (2.0 if transactional else 1.0 if consistent else 0.5)


def write_units(size: int, *, transactional: bool = False) -> int:
    """Write request units of one item written: 1 KB units, at least one; twice in a transaction."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES)) * (2 if transactional else 1)


# ----------------------------------------------------------------------------------------- the prices
def call_latency_ms(calls: Mapping[str, float]) -> float:
    """Assumed service time of a request's AWS calls, ``{"dynamodb.GetItem": count, …}``."""
    total = 0.0
    for call, count in calls.items():
        service = call.split(".", 1)[0]
        total += count * CALL_LATENCY_MS.get(call, CALL_LATENCY_MS.get(service, OTHER_CALL_LATENCY_MS))
    return total


def billed_ms(cpu_ms: float, latency_ms: float, memory_mb: int) -> int:
    """Billed duration: CPU time stretched by the memory's CPU share, plus waiting; up to 1 ms."""
    return math.ceil(cpu_ms * max(1.0, FULL_VCPU_MB / memory_mb) + latency_ms - 1e-9)


def lambda_per_million(duration_ms: float, memory_mb: int, architecture: str = "x86_64") -> float:
    """$ per million invocations: GB-seconds at the architecture's price, plus the request charge."""
    gb_seconds = duration_ms / 1000 * memory_mb / 1024
    return 1e6 * gb_seconds * LAMBDA_GB_SECOND[architecture] + LAMBDA_PER_MILLION_REQUESTS


def http_api_per_million(request_bytes: int, response_bytes: int) -> float:
    """$ per million HTTP API requests; a request of more than 512 KB counts once per 512 KB."""
    increments = max(1, math.ceil(max(request_bytes, response_bytes) / HTTP_API_METERING_BYTES))
    return increments * HTTP_API_PER_MILLION_REQUESTS


def dynamodb_per_million(rru: float, wru: float) -> float:
    """$ per million requests that each consume ``rru`` read and ``wru`` write request units."""
    return rru * DYNAMODB_PER_MILLION_RRU + wru * DYNAMODB_PER_MILLION_WRU


def logs_per_million(log_bytes: float) -> float:
    return 1e6 * log_bytes / 1024**3 * LOGS_PER_GB_INGESTED


@dataclass(frozen=True)
class MemoryChoice:
    memory_mb: int
    reason: str


def choose_memory(
    durations: Mapping[int, int], peak_rss_mb: float, holds_models: bool, model_floor_mb: int = 883
) -> MemoryChoice:
    """The cheapest memory size (Lambda x86 $ per request) whose billed duration is within LATENCY_BOUND
    of the 1,769 MB one and that holds the working set: RSS_HEADROOM x the peak RSS and, for functions
    that load models, ``model_floor_mb`` (a model serving while its next version loads)."""
    fastest = durations[FULL_VCPU_MB]
    need_mb = max(peak_rss_mb * RSS_HEADROOM, model_floor_mb if holds_models else 0)
    reasons: list[str] = []
    allowed = []
    for m in sorted(durations):
        if durations[m] > LATENCY_BOUND * fastest:
            close = " (borderline)" if durations[m] <= LATENCY_BOUND * fastest * 1.05 else ""
            reasons.append(f"{m:,} MB: {durations[m]} ms, over {LATENCY_BOUND}x {fastest} ms{close}")
        elif m < need_mb:
            reasons.append(f"{m:,} MB: under the {need_mb:,.0f} MB needed")
        else:
            allowed.append(m)
    best = min(allowed or [max(durations)], key=lambda m: (lambda_per_million(durations[m], m), m))
    cost = {m: lambda_per_million(durations[m], m) for m in durations}
    dearer = [f"{m:,} MB: ${cost[m]:.2f}/M" for m in allowed if m != best]
    ratio = durations[best] / fastest
    close = " (borderline)" if ratio > LATENCY_BOUND / 1.05 and best != FULL_VCPU_MB else ""
    summary = f"{durations[best]} ms, {ratio:.2f}x the 1,769 MB {fastest} ms{close}, Lambda ${cost[best]:.2f}/M (x86)"
    return MemoryChoice(best, "; ".join([summary, *[r for r in reasons if not r.startswith(f"{best:,} MB")], *dearer]))


# ------------------------------------------------------------------------------------ counting AWS calls
class AwsMeter:
    """botocore ``before-call`` / ``after-call`` hooks on the default session: every client the stores
    create counts its calls. With ``sizing`` on, DynamoDB calls are also sized in request units, from
    the requests and responses on the wire and the old and new item images read by ``inspector`` (a
    client of another session, so its calls are not counted)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.sizing = False
        self.inspector: Any = None
        self.rru = 0.0
        self.wru = 0.0
        self.index_wru = 0.0
        self.notes: Counter[str] = Counter()
        self.tables: Counter[str] = Counter()  # "Query Events": calls per operation and table, when sizing
        self._keys: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}
        self._pending: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = []

    # The hooks -------------------------------------------------------------------------------------
    def before_call(self, model: Any, params: Mapping[str, Any], **_: Any) -> None:
        if not self.sizing or model.service_model.service_name != "dynamodb":
            return
        body = json.loads(params.get("body") or b"{}")
        self._pending.append((model.name, body, self._old_images(model.name, body)))

    def after_call(self, http_response: Any, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1
        if not self.sizing or model.service_model.service_name != "dynamodb":
            return
        operation, request, old = self._pending.pop()
        response = json.loads(http_response.content or b"{}")
        error = str(response.get("__type", "")).rsplit("#", 1)[-1] if http_response.status_code >= 300 else ""
        self._account(operation, request, response, old, error)

    # Sizing ----------------------------------------------------------------------------------------
    def _table(self, name: str) -> tuple[list[str], list[dict[str, Any]]]:
        if name not in self._keys:
            table = self.inspector.describe_table(TableName=name)["Table"]
            self._keys[name] = (
                [k["AttributeName"] for k in table["KeySchema"]],
                table.get("GlobalSecondaryIndexes", []),
            )
        return self._keys[name]

    def _get(self, table: str, item_or_key: Mapping[str, Any]) -> dict[str, Any] | None:
        key = {name: item_or_key[name] for name in self._table(table)[0]}
        found: dict[str, Any] | None = self.inspector.get_item(TableName=table, Key=key, ConsistentRead=True).get(
            "Item"
        )
        return found

    def _writes(self, operation: str, request: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
        """``(kind, table, request part)`` of every item a write call touches."""
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            return [(operation, request["TableName"], dict(request))]
        if operation == "BatchWriteItem":
            return [
                ("PutItem", table, w["PutRequest"]) if "PutRequest" in w else ("DeleteItem", table, w["DeleteRequest"])
                for table, writes in request["RequestItems"].items()
                for w in writes
            ]
        if operation == "TransactWriteItems":
            kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "Check"}
            return [
                (kinds[kind], part["TableName"], part) for t in request["TransactItems"] for kind, part in t.items()
            ]
        return []

    def _old_images(self, operation: str, request: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            self._get(table, part["Item"] if kind == "PutItem" else part["Key"]) or {}
            for kind, table, part in self._writes(operation, request)
        ]

    def _account(
        self,
        operation: str,
        request: Mapping[str, Any],
        response: Mapping[str, Any],
        old: list[dict[str, Any]],
        error: str,
    ) -> None:
        self.tables[f"{operation} {'+'.join(tables_of(request))}"] += 1
        if operation in ("GetItem", "Query", "Scan", "BatchGetItem") and error:
            return
        if any(k in request for k in ("ProjectionExpression", "Select", "AttributesToGet")):
            self.notes[f"{operation} with a projection: sized on the attributes it returned"] += 1
        if response.get("ScannedCount", 0) > response.get("Count", 0):
            self.notes[f"{operation} whose filter dropped items: sized on the items it returned"] += 1
        if operation == "GetItem" and not error:
            self.rru += read_units(item_bytes(response.get("Item")), consistent=bool(request.get("ConsistentRead")))
        elif operation in ("Query", "Scan") and not error:
            size = sum(item_bytes(i) for i in response.get("Items", []))
            consistent = bool(request.get("ConsistentRead")) and "IndexName" not in request
            self.rru += read_units(size, consistent=consistent)
        elif operation == "BatchGetItem" and not error:
            for table, asked in request["RequestItems"].items():
                consistent = bool(asked.get("ConsistentRead"))
                found = response.get("Responses", {}).get(table, [])
                unprocessed = len(response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []))
                missing = len(asked["Keys"]) - len(found) - unprocessed  # read, not found: the minimum each
                self.rru += sum(read_units(item_bytes(i), consistent=consistent) for i in found)
                self.rru += missing * read_units(0, consistent=consistent)
        else:
            self._account_writes(operation, request, response, old, error)

    def _account_writes(
        self,
        operation: str,
        request: Mapping[str, Any],
        response: Mapping[str, Any],
        old: list[dict[str, Any]],
        error: str,
    ) -> None:
        writes = self._writes(operation, request)
        if not writes:
            return
        transactional = operation == "TransactWriteItems"
        failed = error in ("ConditionalCheckFailedException", "TransactionCanceledException")
        if error and not failed:
            return
        if error:
            self.notes[f"{operation} refused ({error}): charged on the existing item"] += 1
        unprocessed = {
            json.dumps(part, sort_keys=True)
            for table_writes in response.get("UnprocessedItems", {}).values()
            for write in table_writes
            for part in write.values()
        }
        for (kind, table, part), before in zip(writes, old, strict=True):
            if json.dumps(part, sort_keys=True) in unprocessed:
                continue
            if kind == "Check":
                self.rru += read_units(item_bytes(before), consistent=True, transactional=True)
                continue
            if failed:
                self.wru += write_units(item_bytes(before), transactional=transactional)
                continue
            after = (
                part["Item"] if kind == "PutItem" else None if kind == "DeleteItem" else self._get(table, part["Key"])
            )
            self.wru += write_units(max(item_bytes(before), item_bytes(after)), transactional=transactional)
            self.index_wru += self._index_writes(table, before, after or {})

    def _index_writes(self, table: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> int:
        """Write units of a table write on the table's global secondary indexes: an entry put, deleted,
        replaced (an index key changed: two writes) or rewritten (a projected attribute changed)."""
        keys, indexes = self._table(table)
        units = 0
        for index in indexes:
            index_keys = [k["AttributeName"] for k in index["KeySchema"]]
            projection = index.get("Projection", {})

            def entry(item: Mapping[str, Any], index_keys: list[str] = index_keys, p: Any = projection) -> Any:
                if not item or any(k not in item for k in index_keys):
                    return None
                if p.get("ProjectionType", "ALL") == "ALL":
                    return dict(item)
                kept = {*keys, *index_keys, *p.get("NonKeyAttributes", [])}
                return {k: v for k, v in item.items() if k in kept}

            old, new = entry(before), entry(after)
            if (old is None and new is None) or old == new:
                continue
            if old is not None and new is not None and any(before[k] != after[k] for k in index_keys):
                units += write_units(item_bytes(old)) + write_units(item_bytes(new))
            else:
                units += write_units(max(item_bytes(old), item_bytes(new)))
        return units


def tables_of(request: Mapping[str, Any]) -> list[str]:
    """The tables a DynamoDB request names, without the ``Table`` suffix of the template's logical ids."""
    if "TableName" in request:
        names = [request["TableName"]]
    elif "RequestItems" in request:
        names = list(request["RequestItems"])
    else:
        names = [part["TableName"] for t in request.get("TransactItems", []) for part in t.values()]
    return [name.removesuffix("Table") for name in dict.fromkeys(names)]


# -------------------------------------------------------------------------------------------- the worker
class LambdaContext:
    function_name = "CostBench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:CostBench"
    aws_request_id = "cost-bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 15_000


def peak_rss_mb() -> float:
    """This process's peak RSS. Linux keeps ``ru_maxrss`` across exec, so a worker started by a large
    parent would report the parent's peak: /proc's VmHWM is the process's own (getrusage elsewhere)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform != "darwin" else 1024**2)


def worker(job_path: Path, result_path: Path, log_path: Path) -> None:
    """Serve the job's events through one function's handler; write what was measured."""
    import boto3

    started = time.perf_counter()
    job = json.loads(job_path.read_text())
    meter = AwsMeter()
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-call", meter.before_call)  # type: ignore[union-attr]
    boto3.DEFAULT_SESSION.events.register("after-call", meter.after_call)  # type: ignore[union-attr]
    sys.stdout.flush()
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log_fd, 1)  # the function's log lines and metrics go here, as to CloudWatch in Lambda
    sys.path.insert(0, job["code_uri"])
    handler = getattr(importlib.import_module(job["module"]), job["attribute"])
    after_import_mb = peak_rss_mb()
    context = LambdaContext()

    def logged() -> int:
        sys.stdout.flush()
        return os.fstat(1).st_size

    def serve(event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = handler(event, context)
        if not 200 <= response["statusCode"] < 300:
            raise RuntimeError(f"{job['label']}: {response['statusCode']} {response.get('body', '')[:500]}")
        return response

    phases = {"import": time.perf_counter() - started}
    first_calls: Counter[str] = Counter()
    for n, event in enumerate(job["warmup"]):
        before = Counter(meter.calls)
        serve(event)
        if n == 0:
            first_calls = meter.calls - before
    cpu, wall, calls, logs, sizes = [], [], Counter[str](), 0, []
    for event in job["timed"]:
        calls_before, log_before = Counter(meter.calls), logged()
        w0, c0 = time.perf_counter(), time.process_time()
        response = serve(event)
        c1, w1 = time.process_time(), time.perf_counter()
        cpu.append((c1 - c0) * 1000)
        wall.append((w1 - w0) * 1000)
        calls += meter.calls - calls_before
        logs += logged() - log_before
        sizes.append((len((event.get("body") or "").encode()), len((response.get("body") or "").encode())))
    phases["warm+timed"] = time.perf_counter() - started - phases["import"]
    peak_mb = peak_rss_mb()
    meter.inspector = boto3.session.Session().client("dynamodb")
    meter.sizing = True
    s3_before = Counter(meter.calls)
    for event in job["accounted"]:
        serve(event)
    accounted = len(job["accounted"])
    s3 = meter.calls - s3_before
    phases["accounted"] = time.perf_counter() - started - phases["import"] - phases["warm+timed"]
    result = {
        "cpu_ms": cpu,
        "wall_ms": wall,
        "calls": {k: v / len(job["timed"]) for k, v in calls.items()},
        "first_calls": dict(first_calls),
        "log_bytes": logs / len(job["timed"]),
        "request_bytes": max(r for r, _ in sizes),
        "response_bytes": max(r for _, r in sizes),
        "rru": meter.rru / accounted,
        "wru": meter.wru / accounted,
        "index_wru": meter.index_wru / accounted,
        "s3_get": sum(v for k, v in s3.items() if k in ("s3.GetObject", "s3.HeadObject")) / accounted,
        "s3_put": sum(v for k, v in s3.items() if k == "s3.PutObject") / accounted,
        "notes": dict(meter.notes),
        "tables": {k: v / accounted for k, v in meter.tables.items()},
        "rss_after_import_mb": after_import_mb,
        "peak_rss_mb": peak_mb,
        "phases": {k: round(v, 1) for k, v in phases.items()},
    }
    result_path.write_text(json.dumps(result))


# ------------------------------------------------------------------------------------------------ cases
@dataclass(frozen=True)
class Case:
    family: str  # the function module's name without ``_api``
    sample: str  # the events/ file the request starts from
    build: Callable[[int], dict[str, Any]]  # request number -> its API Gateway event
    note: str = ""

    @property
    def route(self) -> str:
        return str(sample_event(self.sample)["routeKey"])


def sample_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / name).read_text())
    return event


def adapted(
    name: str,
    *,
    path: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    body: Any = None,
) -> dict[str, Any]:
    """The sample event ``name`` with other path parameters, query or body (as API Gateway would send them)."""
    event = sample_event(name)
    if path is not None:
        raw_path = event["routeKey"].split(" ", 1)[1]
        for key, value in path.items():
            raw_path = raw_path.replace("{" + key + "}", quote(value, safe=""))
        event["pathParameters"] = dict(path)
        event["rawPath"] = event["requestContext"]["http"]["path"] = raw_path
    if query is not None:
        event["rawQueryString"] = urlencode(query)
        event["queryStringParameters"] = dict(query)
    if body is not None:
        event["body"] = json.dumps(body)
        event["isBase64Encoded"] = False
    return event


def numbered(case: Case, n: int) -> dict[str, Any]:
    """Request ``n`` of ``case`` under its own request id, as every request has (a customer or chat
    decision is stored under it, and the first decision stored under an id is kept)."""
    event = case.build(n)
    request_id = f"cost-{case.sample.removesuffix('.json')}-{n:05d}"
    event["headers"]["x-request-id"] = event["requestContext"]["requestId"] = request_id
    return event


TENANT, MODEL, USER = "demo", "demo-als", "user-007"

SCENARIO = {  # the scenario walkthrough's home page (docs/scenarios.md), the default of profile_to_items
    "scenario_type": "case",
    "case": {
        "amt": 5,
        "filters": [
            {"property_name": "stock", "op": "gt", "value": 0},
            {"property_name": "price", "op": "lte", "value": 100},
        ],
        "reranking": [{"property_name": "category", "op": "diversity", "weight": 1.0}],
        "exclude_items_with_interaction_types": ["purchase"],
    },
}
CONTEXT = {"name": "Home page", "filters": ["stock>0"], "excluded_viewed_items": True}  # docs/lists.md
CHAT_TURNS = (  # one conversation: the sample's message, then two follow-ups
    "Which desk would you recommend for heavy tools?",
    "Something under $300?",
    "Do you have one in walnut?",
)


def demo_cases(items: list[dict[str, Any]]) -> list[Case]:
    props = {item["id"]: item["properties"] for item in items}
    desk = next(i for i, p in props.items() if p["category"] == "desks")
    candidates = [
        {"id": i, "attributes": {k: p[k] for k in ("price", "stock", "on_sale")}} for i, p in list(props.items())[:20]
    ]
    ranking = json.loads(sample_event("ranking-recommend.json")["body"])
    ranking.update(user_id=USER, items=candidates, model_id=MODEL)
    customer = json.loads(sample_event("customer-recommend.json")["body"])
    customer["sequence_data"].update(
        customer_preferences={"categories": ["desks", "chairs"], "price_range": {"min": 50, "max": 500}},
        browsing_history=["sku-0011", "sku-0016"],
        purchase_history=[desk],
    )
    catalog_put = {"items": [{"id": i, "properties": props[i]} for i in ("sku-0001", "sku-0002", "sku-0003")]}

    def chat(n: int) -> dict[str, Any]:
        body = json.loads(sample_event("chat.json")["body"])
        for event in body["events"]:
            event["item_id"] = desk
        body.update(message=CHAT_TURNS[n % 3], conversation_id=f"cost-bench-{n // 3:05d}", user_id=USER)
        return adapted("chat.json", body=body)

    def post_events(n: int) -> dict[str, Any]:
        body = json.loads(sample_event("events-post-events.json")["body"])
        for k, event in enumerate(body["events"]):
            event.update(event_id=f"cost-bench-{n:05d}-{k}", item_id=f"sku-{(n * 3 + k) % 400 + 1:04d}")
            event["session_id"] = f"cost-bench-{n:05d}"
            if "user_id" in event:
                event["user_id"] = "user-150"
            event.pop("rec_id", None)
        return adapted("events-post-events.json", body=body)

    def same(event: dict[str, Any]) -> Callable[[int], dict[str, Any]]:
        return lambda n: json.loads(json.dumps(event))

    return [
        Case(
            "ranking", "ranking-recommend.json", same(adapted("ranking-recommend.json", body=ranking)), "20 candidates"
        ),
        Case(
            "recommendation",
            "recommendation-profile-to-items.json",
            same(adapted("recommendation-profile-to-items.json", path={"user_id": USER}, query={"amt": "5"})),
            "the default scenario applies",
        ),
        Case(
            "lists",
            "lists-recommendations.json",
            same(
                adapted(
                    "lists-recommendations.json",
                    query={"user_id": USER, "context_id": "101", "limit": "5", "filter": "price<=100"},
                )
            ),
            "context 101",
        ),
        Case("customer", "customer-recommend.json", same(adapted("customer-recommend.json", body=customer))),
        Case("chat", "chat.json", chat, "3-turn conversations, built-in replies (no Bedrock)"),
        Case("catalog", "catalog-get-item.json", same(adapted("catalog-get-item.json", path={"item_id": desk}))),
        Case("catalog", "catalog-put-items.json", same(adapted("catalog-put-items.json", body=catalog_put)), "3 items"),
        Case("events", "events-post-events.json", post_events, "3 new events"),
        Case("models", "models-get-model.json", same(adapted("models-get-model.json", path={"model_id": MODEL}))),
        Case(
            "scenarios",
            "scenarios-get-scenario.json",
            same(adapted("scenarios-get-scenario.json", path={"reco_type": "profile_to_items", "name": "home-page"})),
        ),
    ]


# ------------------------------------------------------------------------------------------ orchestration
@contextlib.contextmanager
def aws_server(kind: str) -> Iterator[str]:
    """DynamoDB and S3 in a server process of their own, so that their CPU time is not the function's:
    the local runner's store (local.endpoint, SQLite), or moto's server. moto 5 sorts a whole table on
    every Query (0.35 s at the demo's 12k event rows) and copies every table for each transaction (a
    POST /v1/events never ended, at 4 GB): fine for the other rows with ``--requests 20``, too slow for
    the whole run."""
    if kind == "moto":
        from local.aws import free_port

        port = free_port()
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        url = f"http://127.0.0.1:{port}"
    else:
        command = [sys.executable, "-m", "bench.cost", "--serve-local"]
    process = subprocess.Popen(
        command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        if kind != "moto":
            url = process.stdout.readline().strip()
        for _ in range(200):
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        else:
            raise RuntimeError(f"the {kind} AWS server did not start")
        yield url
    finally:
        process.stdin.close()  # the local server stops at the end of its input
        if kind == "moto":
            process.terminate()
        wait_or_kill(process, 10)


def serve_local() -> None:
    """``--serve-local``: the local runner's DynamoDB and S3 in a throwaway folder, until stdin closes."""
    from local.endpoint import LocalAws

    local_aws = LocalAws(None)
    print(local_aws.serve(), flush=True)
    try:
        sys.stdin.read()
    finally:
        local_aws.close()


def seed(specs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The demo tenant (``make run``'s: items, users, events, the trained demo-als), then through the
    functions' own handlers the scenario walkthrough's default scenario and the lists walkthrough's
    context; returns the demo items."""
    from local.aws import provision_resources
    from local.demo import seed_demo
    from reco.demo import generate_demo

    provision_resources()
    print(seed_demo(TENANT, MODEL), file=sys.stderr, flush=True)
    home_page = {"reco_type": "profile_to_items", "name": "home-page"}
    for family, event in (
        ("scenarios", adapted("scenarios-put-scenario.json", path=home_page, body=SCENARIO)),
        (
            "scenarios",
            adapted("scenarios-set-default.json", path={"reco_type": "profile_to_items"}, body={"name": "home-page"}),
        ),
        ("lists", adapted("lists-put-context.json", path={"context_id": "101"}, body=CONTEXT)),
    ):
        spec = specs[family]
        sys.path.insert(0, str(spec.code_uri))
        response = getattr(importlib.import_module(spec.module), spec.attribute)(event, LambdaContext())
        if not 200 <= response["statusCode"] < 300:
            raise RuntimeError(f"seeding {event['routeKey']}: {response['statusCode']} {response['body']}")
    return generate_demo().items


@dataclass
class Measured:
    case: Case
    cpu_ms: float
    cpu_p90_ms: float
    wall_ms: float
    calls: dict[str, float]
    first_calls: dict[str, int]
    rru: float
    wru: float  # the table's and its indexes'
    index_wru: float
    s3_get: float
    s3_put: float
    log_bytes: float
    request_bytes: int
    response_bytes: int
    peak_rss_mb: float
    rss_after_import_mb: float
    tables: dict[str, float] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)

    @property
    def aws_calls(self) -> float:
        return sum(self.calls.values())

    @property
    def latency_ms(self) -> float:
        return call_latency_ms(self.calls)

    def billed(self, memory_mb: int) -> int:
        return billed_ms(self.cpu_ms, self.latency_ms, memory_mb)

    def other_per_million(self) -> float:
        """API Gateway, DynamoDB, S3 requests and logs: the same at every memory size."""
        return (
            http_api_per_million(self.request_bytes, self.response_bytes)
            + dynamodb_per_million(self.rru, self.wru)
            + self.s3_get * S3_PER_MILLION_GET
            + self.s3_put * S3_PER_MILLION_PUT
            + logs_per_million(self.log_bytes)
        )


def measure(case: Case, spec: Any, requests: int, accounted: int, warmup: int, workdir: Path) -> Measured:
    job = {
        "label": f"{case.family} {case.route}",
        "module": spec.module,
        "attribute": spec.attribute,
        "code_uri": str(spec.code_uri),
        "warmup": [numbered(case, n) for n in range(warmup)],
        "timed": [numbered(case, n) for n in range(warmup, warmup + requests)],
        "accounted": [numbered(case, n) for n in range(warmup + requests, warmup + requests + accounted)],
    }
    stem = workdir / f"{case.family}-{case.sample}"
    job_path, result_path, log_path = (stem.with_suffix(s) for s in (".job", ".result", ".log"))
    job_path.write_text(json.dumps(job))
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bench.cost", "--worker", str(job_path), str(result_path), str(log_path)],
        cwd=ROOT,
        check=True,
        timeout=600,
    )
    r = json.loads(result_path.read_text())
    cpu = sorted(r["cpu_ms"])
    print(
        f"  {time.perf_counter() - started:.1f} s; CPU {statistics.median(cpu):.2f} ms, wall "
        f"{statistics.median(r['wall_ms']):.1f} ms per request; phases {r['phases']}",
        file=sys.stderr,
        flush=True,
    )
    return Measured(
        case=case,
        cpu_ms=statistics.median(cpu),
        cpu_p90_ms=cpu[int(0.9 * (len(cpu) - 1))],
        wall_ms=statistics.median(r["wall_ms"]),
        calls=r["calls"],
        first_calls=r["first_calls"],
        rru=r["rru"],
        wru=r["wru"] + r["index_wru"],
        index_wru=r["index_wru"],
        s3_get=r["s3_get"],
        s3_put=r["s3_put"],
        log_bytes=r["log_bytes"],
        request_bytes=r["request_bytes"],
        response_bytes=r["response_bytes"],
        peak_rss_mb=r["peak_rss_mb"],
        rss_after_import_mb=r["rss_after_import_mb"],
        tables=r["tables"],
        notes=r["notes"],
    )


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def fmt(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def money(value: float) -> str:
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"


def count_text(n: float) -> str:
    return fmt(n, 0) if n == int(n) else fmt(n, 2)


def calls_text(calls: Mapping[str, float]) -> str:
    """``{"s3.GetObject": 1}`` → "1 GetObject"; ``{"Query Events": 1}`` → "1 Query Events"."""
    return ", ".join(f"{count_text(n)} {name.split('.', 1)[-1]}" for name, n in sorted(calls.items()))


def report(rows: list[Measured], requests: int, accounted: int, backend: str) -> None:
    from reco.models.ease import EASE, SERVING_BYTES_PER_CELL, memory_mb

    floor = memory_mb(int(EASE.DEFAULT_PARAMS["max_items"]), SERVING_BYTES_PER_CELL)
    by_family: dict[str, list[Measured]] = {}
    for row in rows:
        by_family.setdefault(row.case.family, []).append(row)
    choices = {}
    for family, family_rows in by_family.items():
        worst = {m: max(r.billed(m) for r in family_rows) for m in MEMORY_SIZES}
        peak = max(r.peak_rss_mb for r in family_rows)
        choices[family] = choose_memory(worst, peak, family in MODEL_FUNCTIONS, floor)

    print(
        f"Warm requests, {requests} timed and {accounted} sized per row; DynamoDB and S3 served by "
        f"{'moto' if backend == 'moto' else 'the local runner store'} in a process of its own (wall ms: against "
        f"it, not AWS); CPU: {cpu_model()}.\n"
    )
    print(
        "| function | route | CPU ms (p50 / p90) | wall ms | AWS calls per request | RRU | WRU | S3 GET | log B "
        "| peak RSS MB |"
    )
    print("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r.case.family} | `{r.case.route}`{' (' + r.case.note + ')' if r.case.note else ''} "
            f"| {fmt(r.cpu_ms, 2)} / {fmt(r.cpu_p90_ms, 2)} | {fmt(r.wall_ms)} "
            f"| {count_text(r.aws_calls)}: {calls_text(r.tables or r.calls)} "
            f"| {fmt(r.rru, 2)} | {fmt(r.wru, 2)}{f' ({fmt(r.index_wru, 2)} GSI)' if r.index_wru else ''} "
            f"| {fmt(r.s3_get, 0)} | {fmt(r.log_bytes, 0)} | {fmt(r.peak_rss_mb, 0)} |"
        )
    print()
    sizes = " / ".join(f"{m:,}" for m in MEMORY_SIZES)
    print(
        f"| function | route | billed ms at {sizes} MB | Lambda x86 $/M at {sizes} | Lambda arm64 $/M at {sizes} "
        "| API GW $/M | DynamoDB $/M | logs $/M | recommended MB | total $/M there, x86 / arm64 |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        chosen = choices[r.case.family].memory_mb
        billed = [r.billed(m) for m in MEMORY_SIZES]
        x86 = [lambda_per_million(b, m, "x86_64") for b, m in zip(billed, MEMORY_SIZES, strict=True)]
        arm = [lambda_per_million(b, m, "arm64") for b, m in zip(billed, MEMORY_SIZES, strict=True)]
        other = r.other_per_million()
        totals = [lambda_per_million(r.billed(chosen), chosen, a) + other for a in ("x86_64", "arm64")]
        print(
            f"| {r.case.family} | `{r.case.route}` | {' / '.join(str(b) for b in billed)} "
            f"| {' / '.join(money(x) for x in x86)} | {' / '.join(money(x) for x in arm)} "
            f"| {money(http_api_per_million(r.request_bytes, r.response_bytes))} "
            f"| {money(dynamodb_per_million(r.rru, r.wru))} | {money(logs_per_million(r.log_bytes))} "
            f"| {chosen:,} | {money(totals[0])} / {money(totals[1])} |"
        )
    print("\nRecommended MemorySize (cheapest size within 1.5x of the 1,769 MB duration that holds the working set):\n")
    for family, choice in choices.items():
        peak = max(r.peak_rss_mb for r in by_family[family])
        holds = f"; holds models: >= {floor} MB for a second version loading" if family in MODEL_FUNCTIONS else ""
        print(f"- {family}: **{choice.memory_mb:,} MB** — {choice.reason}; peak RSS {peak:,.0f} MB{holds}")
    print("- train: not measured — billed per training run (TrainingMemorySize, 3,008 MB), not per request")
    first = {r.case.family: r.first_calls for r in rows if any(k.startswith("s3.") for k in r.first_calls)}
    latencies = ", ".join(f"{k.replace('dynamodb.', '')} {v:g} ms" for k, v in CALL_LATENCY_MS.items())
    price = LAMBDA_GB_SECOND
    notes = Counter[str]()
    for r in rows:
        notes.update(r.notes)
    lines = [
        f"Billed duration = CPU ms x max(1, 1769 / MB) + an assumed service time per AWS call ({latencies}, "
        f"any other {OTHER_CALL_LATENCY_MS:g} ms; DynamoDB's published latency is single-digit milliseconds, a "
        "transaction has two phases), rounded up to 1 ms. Memory: the cheapest size within "
        f"{LATENCY_BOUND}x the 1,769 MB duration holding {RSS_HEADROOM}x the peak RSS (the same order on arm64).",
        f"CPU time measured on this host, not on a Lambda vCPU (Python {platform.python_version()}; Lambda runs "
        "3.12), over plain HTTP (no TLS); X-Ray's botocore patching (Tracing: Active) is off outside Lambda. arm64: "
        "the x86 duration (not measured here) at arm64's GB-second price.",
        f"Prices, us-east-1, checked {PRICES_CHECKED}: Lambda ${price['x86_64']} (x86_64) / ${price['arm64']} "
        f"(arm64) per GB-s + ${LAMBDA_PER_MILLION_REQUESTS:.2f}/M requests; HTTP API "
        f"${HTTP_API_PER_MILLION_REQUESTS:.2f}/M per 512 KB; DynamoDB on-demand ${DYNAMODB_PER_MILLION_RRU}/M RRU, "
        f"${DYNAMODB_PER_MILLION_WRU}/M WRU; S3 ${S3_PER_MILLION_GET:.2f}/M GET; CloudWatch Logs "
        f"${LOGS_PER_GB_INGESTED:.2f}/GB of the function's own output (Lambda's START/END/REPORT lines, API "
        "access logs and X-Ray traces not counted). Totals: Lambda at the recommended memory + API GW + "
        "DynamoDB + S3 + logs.",
        "Reads and writes: every DynamoDB call of the stores, sized from the items on the wire and their old and "
        "new images: RRU in 4 KB units per item read (GetItem, each BatchGetItem key, a missing one at the "
        "minimum) or per Query total, half when eventually consistent; WRU in 1 KB units of the larger of the "
        "old and new item per item written, a refused conditional write on the item it found, global secondary "
        "index entries put, replaced or deleted; 2x in transactions. UpdateItem RateCounters is the tenant's "
        "request counter (TenantRateLimit, on as deployed).",
    ]
    if first:
        cold = "; ".join(f"{family}: {calls_text(calls)}" for family, calls in first.items())
        lines.append(f"A container's first request also reads the model (S3 GetObject): {cold}.")
    lines += [f"{note} ({count} calls)." for note, count in notes.items()]
    print("\nAssumptions and counting:\n")
    for line in lines:
        print(f"- {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="timed warm requests per row (default 100)")
    parser.add_argument("--accounted", type=int, default=12, help="requests sized in RRU/WRU per row (default 12)")
    parser.add_argument("--warmup", type=int, default=6, help="requests before timing (default 6)")
    parser.add_argument("--only", help="comma-separated function names (ranking,catalog,…)")
    parser.add_argument(
        "--aws", choices=("local", "moto"), default="local", help="the AWS server: local (default) or moto"
    )
    parser.add_argument("--serve-local", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", nargs=3, metavar=("JOB", "RESULT", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*(Path(p) for p in args.worker))
        return
    if args.serve_local:
        serve_local()
        return

    from local.aws import local_resource_names, use_fake_credentials
    from local.template import function_environment, functions

    specs = {spec.module.removesuffix("_api"): spec for spec in functions()}
    with aws_server(args.aws) as endpoint:
        use_fake_credentials(endpoint)
        os.environ.update(function_environment(local_resource_names()))
        # As deployed, each tenant's request counter in DynamoDB (one conditional UpdateItem per request; the
        # local runner turns it off), with a share no bench run reaches.
        os.environ.update(TENANT_RATE_LIMIT="1000000", TENANT_BURST_LIMIT="2000000")
        started = time.perf_counter()
        with stdout_fd_to(2):  # the seeding requests' log lines are not the report
            items = seed(specs)
        only = set(args.only.split(",")) if args.only else None
        rows = []
        with tempfile.TemporaryDirectory(prefix="reco-cost-") as tmp:
            for case in demo_cases(items):
                if only and case.family not in only:
                    continue
                print(f"measuring {case.family} {case.route} ...", file=sys.stderr, flush=True)
                rows.append(measure(case, specs[case.family], args.requests, args.accounted, args.warmup, Path(tmp)))
        print(f"measured in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    report(rows, args.requests, args.accounted, args.aws)


if __name__ == "__main__":
    main()
