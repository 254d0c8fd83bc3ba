"""Scenarios and reco-type defaults in the configuration table, committed against one graph version.

Rows (docs/data-model.md):

- scenario: ``pk = <tenant>#scenario``, ``sk = <reco_type>#<name>``; ``document`` is the JSON text of
  :meth:`Scenario.document`, so numbers and nesting come back exactly as they were sent;
- default: ``pk = <tenant>#scenario-default``, ``sk = <reco_type>``, ``name``;
- graph head: ``pk = <tenant>#scenario-graph``, ``sk = head``, ``version``.

Whether a write closes a cycle depends on every other scenario, so no per-row condition can guard
it. Instead every write is one transaction that also moves the head from the version the service
checked to the next one: two writers checked against the same version cannot both commit, and the
loser re-reads and re-checks (:class:`GraphChanged`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from reco.errors import ServiceUnavailable, UnreadableRecord, WrongParameter
from reco.records import iso_millis
from reco.scenarios.graph import GraphChanged, ScenarioPage, ScenarioRow, ScenarioSnapshot
from reco.schemas.scenarios import Scenario
from reco.settings import get_settings
from reco.stores.aws import cached_store, dynamodb_table, tenant_key
from reco.stores.codec import MAX_SORT_KEY_BYTES, decoded_or_none, error_code

SCENARIO = "scenario"
DEFAULT = "scenario-default"
GRAPH = "scenario-graph"
HEAD = "head"
# Cancellation reasons that mean "someone else wrote meanwhile": re-read and retry.
CONCURRENT_WRITE = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
BUSY = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"})


class ScenarioStore:
    """A tenant's scenarios, its reco types' defaults, and the version of the graph they form."""

    def __init__(self, table: Any, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._table = table
        self._clock = clock

    # ------------------------------------------------------------------ reads
    def get(self, tenant: str, reco_type: str, name: str) -> Scenario | None:
        row = self._table.get_item(Key=self._scenario_key(tenant, reco_type, name), ConsistentRead=True).get("Item")
        if row is None:
            return None
        scenario = _scenario(row)
        if scenario is None:
            raise UnreadableRecord(
                f"scenario '{name}' ({reco_type}) is stored in a form this version cannot read; "
                "delete it and write it again"
            )
        return scenario

    def default_name(self, tenant: str, reco_type: str) -> str | None:
        row = self._table.get_item(Key=self._default_key(tenant, reco_type), ConsistentRead=True).get("Item")
        return None if row is None else str(row["name"])

    def snapshot(self, tenant: str) -> ScenarioSnapshot:
        """The whole graph, strongly consistent; the head is read first, so rows are never older than it.

        Rows newer than the head are harmless: they moved the head, so a commit at this version fails.
        """
        head = self._table.get_item(Key=self._head_key(tenant), ConsistentRead=True).get("Item")
        scenarios, unreadable = {}, set()
        for row in self._query_all(tenant_key(tenant, SCENARIO)):
            key = (str(row["reco_type"]), str(row["name"]))
            scenario = _scenario(row)
            if scenario is None:
                unreadable.add(key)  # routes nowhere; can still be deleted
            else:
                scenarios[key] = scenario
        defaults = {str(row["sk"]): str(row["name"]) for row in self._query_all(tenant_key(tenant, DEFAULT))}
        return ScenarioSnapshot(int(head["version"]) if head else 0, scenarios, defaults, frozenset(unreadable))

    def page(self, tenant: str, reco_type: str | None, after: str | None, limit: int) -> ScenarioPage:
        """Up to ``limit`` scenarios in (reco_type, name) order, optionally of one reco type, after ``after``."""
        partition = tenant_key(tenant, SCENARIO)
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": partition},
            "ConsistentRead": True,
            "Limit": limit,
        }
        prefix = f"{reco_type}#" if reco_type is not None else ""
        if reco_type is not None:
            request["KeyConditionExpression"] += " AND begins_with(sk, :prefix)"
            request["ExpressionAttributeValues"][":prefix"] = prefix
        if after is not None:
            # Positions come back in cursors: one outside this list's key range would be a 500 otherwise.
            if not after.startswith(prefix) or not 0 < len(after.encode()) <= MAX_SORT_KEY_BYTES:
                raise WrongParameter("cursor was issued for another list: pass the next_cursor that this list returned")
            request["ExclusiveStartKey"] = {"pk": partition, "sk": after}
        response = self._table.query(**request)
        rows = [
            ScenarioRow(str(row["sk"]), str(row["reco_type"]), str(row["name"]), scenario)
            for row in response.get("Items", [])
            if (scenario := _scenario(row)) is not None
        ]
        last = response.get("LastEvaluatedKey")
        return ScenarioPage(rows, str(last["sk"]) if last else None)

    def _query_all(self, partition: str) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": partition},
            "ConsistentRead": True,
        }
        rows: list[dict[str, Any]] = []
        while True:
            response = self._table.query(**request)
            rows.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return rows
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # ------------------------------------------------------------------ the one write
    def commit(
        self,
        tenant: str,
        expected_version: int,
        *,
        put: tuple[str, str, Scenario] | None = None,
        delete: tuple[str, str] | None = None,
        set_default: tuple[str, str] | None = None,
        unset_default: str | None = None,
    ) -> None:
        """Apply the change and move the head to ``expected_version + 1``, in one transaction.

        ``put`` is (reco_type, name, scenario), ``delete`` (reco_type, name), ``set_default``
        (reco_type, name), ``unset_default`` a reco type. Raises :class:`GraphChanged` when the head
        is no longer at ``expected_version`` (0: no head row yet) or another transaction collided.
        """
        name, now = self._table.name, iso_millis(self._clock())
        head: dict[str, Any] = {
            "TableName": name,
            "Key": self._head_key(tenant),
            "UpdateExpression": "SET version = :next, updated_at = :now",
            "ExpressionAttributeValues": {":next": expected_version + 1, ":now": now},
        }
        if expected_version == 0:
            head["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            head["ConditionExpression"] = "version = :expected"
            head["ExpressionAttributeValues"][":expected"] = expected_version
        writes: list[dict[str, Any]] = [{"Update": head}]
        if put is not None:
            reco_type, scenario_name, scenario = put
            item = {
                **self._scenario_key(tenant, reco_type, scenario_name),
                "reco_type": reco_type,
                "name": scenario_name,
                "scenario_type": scenario.scenario_type,
                "document": json.dumps(scenario.document(), separators=(",", ":"), ensure_ascii=False),
                "updated_at": now,
            }
            writes.append({"Put": {"TableName": name, "Item": item}})
        if delete is not None:
            writes.append({"Delete": {"TableName": name, "Key": self._scenario_key(tenant, *delete)}})
        if set_default is not None:
            reco_type, scenario_name = set_default
            item = {**self._default_key(tenant, reco_type), "name": scenario_name, "updated_at": now}
            writes.append({"Put": {"TableName": name, "Item": item}})
        if unset_default is not None:
            writes.append({"Delete": {"TableName": name, "Key": self._default_key(tenant, unset_default)}})
        try:
            self._table.meta.client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            codes = {str(reason.get("Code", "")) for reason in error.response.get("CancellationReasons", [])}
            if codes & CONCURRENT_WRITE:
                raise GraphChanged(f"the scenario graph moved past version {expected_version}") from None
            if codes & BUSY:
                raise ServiceUnavailable("the configuration table is busy: retry in a few seconds") from None
            raise

    # ------------------------------------------------------------------ keys
    @staticmethod
    def _scenario_key(tenant: str, reco_type: str, name: str) -> dict[str, str]:
        return {"pk": tenant_key(tenant, SCENARIO), "sk": f"{reco_type}#{name}"}

    @staticmethod
    def _default_key(tenant: str, reco_type: str) -> dict[str, str]:
        return {"pk": tenant_key(tenant, DEFAULT), "sk": reco_type}

    @staticmethod
    def _head_key(tenant: str) -> dict[str, str]:
        return {"pk": tenant_key(tenant, GRAPH), "sk": HEAD}


def _scenario(row: dict[str, Any]) -> Scenario | None:
    """The stored scenario, or ``None`` if it cannot be decoded (see :func:`decoded_or_none`)."""
    return decoded_or_none(row, lambda found: Scenario.model_validate_json(str(found["document"])), "scenario")


@cached_store
def scenario_store() -> ScenarioStore:
    return ScenarioStore(dynamodb_table(get_settings().config_table))
