"""Decisions: the first list served under an id is the one events are attributed to."""

from __future__ import annotations

import time

import pytest

from reco.decisions import Decision
from reco.settings import get_settings
from reco.stores.aws import dynamodb_table, tenant_key
from reco.stores.decisions import decision_store

pytestmark = pytest.mark.store_contract  # against moto and the local store


def test_a_reused_id_keeps_the_first_decision(aws: dict[str, str]) -> None:
    store = decision_store()
    store.record("acme", Decision("req-1", "v1_recommendations", ["a", "b"], [0.9, 0.8], user_id="u1"))
    store.record("acme", Decision("req-1", "customer_recommend", ["x"], [0.5], user_id="u2"))
    kept = store.get("acme", "req-1")
    assert kept is not None
    assert (kept["endpoint"], kept["items"], kept["user_id"]) == ("v1_recommendations", ["a", "b"], "u1")
    store.record("other", Decision("req-1", "customer_recommend", ["x"], [0.5]))  # another tenant's own id
    other = store.get("other", "req-1")
    assert other is not None and other["items"] == ["x"]


def test_an_expired_decision_may_be_replaced(aws: dict[str, str]) -> None:
    table = dynamodb_table(get_settings().decisions_table)
    table.put_item(
        Item={
            "pk": tenant_key("acme", "req-2"),
            "sk": "decision",
            "endpoint": "old",
            "items": ["o"],
            "expires_at": int(time.time()) - 10,
        }
    )
    decision_store().record("acme", Decision("req-2", "v1_recommendations", ["n"], [1.0]))
    kept = decision_store().get("acme", "req-2")
    assert kept is not None and (kept["endpoint"], kept["items"]) == ("v1_recommendations", ["n"])
