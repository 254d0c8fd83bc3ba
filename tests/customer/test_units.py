"""Pieces of the customer API on their own: integer ids, shown scores, log cursors, the sequence schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from reco.customer import service
from reco.customer.logs import LogsQuery, LogWindow, RequestLog, _decode_cursor, _encode_cursor, read_logs
from reco.customer.service import _shown_scores, all_canonical_integers, integer_ids
from reco.errors import MalformedCursor
from reco.models.artifact import ModelArtifact
from reco.schemas.customer import CustomerRecommendRequest


@pytest.mark.parametrize(
    ("ids", "integers"),
    [
        (["0", "7", "124", "999999999999999999"], True),
        ([], True),
        (["124", "0124"], False),  # a leading zero would not survive int()
        (["124", "1234567890123456789"], False),  # 19 digits: beyond the canonical range
        (["124", "-5"], False),
        (["124", "12a"], False),
        (["124", "²"], False),  # a Unicode digit, not an ASCII one
        (["124", "١٢"], False),  # Arabic-Indic digits
        (["124", "1 2"], False),
        (["124", "1\x002"], False),  # an embedded NUL is not padding
        (["product_124"], False),
    ],
)
def test_canonical_integer_ids(ids: list[str], integers: bool) -> None:
    assert all_canonical_integers(np.array(ids, dtype=np.str_)) is integers


def test_integer_ids_are_decided_once_per_loaded_artifact(monkeypatch: pytest.MonkeyPatch) -> None:
    def loaded(ids: list[str]) -> ModelArtifact:
        artifact = ModelArtifact.__new__(ModelArtifact)
        artifact.item_ids = np.array(ids, dtype=np.str_)
        artifact.derived = {}
        return artifact

    artifact = loaded(["1", "2"])
    calls: list[int] = []
    original = service.all_canonical_integers
    monkeypatch.setattr(service, "all_canonical_integers", lambda ids: calls.append(1) or original(ids))
    assert integer_ids(artifact) and integer_ids(artifact) and len(calls) == 1
    assert artifact.derived["integer_ids"] is True  # kept with the artifact: forgotten with it
    assert not integer_ids(loaded(["1", "x"])) and len(calls) == 2  # another loaded artifact decides anew


def test_shown_scores_are_min_max_scaled_over_eligible_rows_and_never_increase() -> None:
    values = np.array([4.0, 2.0, 3.0, 100.0, 0.0], dtype=np.float32)
    eligible = np.array([True, True, True, False, True])
    assert _shown_scores(values, eligible, np.array([0, 2, 1, 4])) == [1.0, 0.75, 0.5, 0.0]
    assert _shown_scores(values, eligible, np.array([2, 0])) == [0.75, 0.75]  # reordered by diversity: clamped
    assert _shown_scores(values, np.array([True] * 5), np.array([1])) == [0.02]
    same = np.array([5.0, 5.0], dtype=np.float32)
    assert _shown_scores(same, np.array([True, True]), np.array([1, 0])) == [1.0, 1.0]
    assert _shown_scores(values, eligible, np.array([], dtype=np.int64)) == []


def test_cursors_round_trip_and_refuse_tampering() -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    window = LogWindow(start, start + timedelta(days=2), "decision")
    position = "2026-05-02T10:00:00.123Z#req-1#decision"
    assert _decode_cursor(_encode_cursor(window, position)) == (window, position)
    outside = "2026-05-09T10:00:00.123Z#req-1#decision"
    for text in (
        _encode_cursor(window, outside),
        _encode_cursor(window, "2026-05-02T10:00:00.123Z#req-1#other"),
        _encode_cursor(LogWindow(start, start + timedelta(days=40), None), position),
        "",
        "x" * 2000,
    ):
        with pytest.raises(MalformedCursor):
            _decode_cursor(text)


class FakeReader:
    """Day partitions in memory; reads at most ``limit`` rows at a time, like a DynamoDB Query page."""

    def __init__(self, rows: dict[str, list[str]]) -> None:
        self.rows = rows
        self.days_read: list[str] = []

    def read_day(self, tenant, day, *, low, high, kind, limit, start_after, now):  # type: ignore[no-untyped-def]
        self.days_read.append(day)
        keys = sorted((k for k in self.rows.get(day, []) if low <= k <= high), reverse=True)
        if start_after is not None:
            keys = [k for k in keys if k < start_after]
        page = keys[:limit]
        more = len(keys) > limit
        logs = [RequestLog("sequence", k.split("#")[1], datetime.fromisoformat(k.split("#")[0]), {}) for k in page]
        return logs, (page[-1] if more else None)


def test_reading_walks_day_partitions_newest_first_and_stops_when_the_page_is_full() -> None:
    now = datetime(2026, 5, 10, 12, tzinfo=UTC)
    rows = {
        "2026-05-10": ["2026-05-10T11:00:00.000Z#a#sequence", "2026-05-10T10:00:00.000Z#b#sequence"],
        "2026-05-08": ["2026-05-08T09:00:00.000Z#c#sequence"],
        "2026-05-07": ["2026-05-07T09:00:00.000Z#d#sequence"],
    }
    reader = FakeReader(rows)
    query = LogsQuery(start="2026-05-05T00:00:00Z", end=None, kind=None, limit=2, cursor=None)
    page = read_logs("t", query, reader, now=now)
    assert [e.request_id for e in page.logs] == ["a", "b"] and page.next_cursor
    assert reader.days_read[-1] == "2026-05-08"  # peeked one row further, no more
    rest = read_logs("t", LogsQuery(None, None, None, 2, page.next_cursor), reader, now=now)
    assert [e.request_id for e in rest.logs] == ["c", "d"] and rest.next_cursor is None


def test_sequence_data_is_kept_as_sent() -> None:
    raw = {"browsing_history": [1, "2"], "customer_preferences": {"categories": []}, "other": {"x": [1, None]}}
    request = CustomerRecommendRequest.model_validate(
        {"sequence_data": raw, "task": "product_recommendation", "template": "trending"}
    )
    assert request.sequence_data.browsing_history == ["1", "2"]
    assert request.sequence_data.raw == raw
    assert request.limit == 10
