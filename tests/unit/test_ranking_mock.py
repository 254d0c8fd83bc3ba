from __future__ import annotations

import pytest

from reco.errors import BadRequest, ModelNotFound, ModelNotReady, ServiceUnavailable, TooManyRequests
from reco.ranking.candidates import duplicate_echo
from reco.ranking.mock import mock_scores
from reco.ranking.service import RankingServices, rank_candidates
from reco.registry import ModelRecord
from reco.schemas.ranking import RecommendRequest
from reco.serving.cache import ModelCache


class FakeRegistry:
    def __init__(self, records: dict[tuple[str, str], ModelRecord] | None = None) -> None:
        self.records = records or {}
        self.calls: list[tuple[str, str]] = []

    def get(self, tenant: str, model_id: str) -> ModelRecord | None:
        self.calls.append((tenant, model_id))
        return self.records.get((tenant, model_id))


class Untouchable:
    """Storage, history and decision log that fail the test if anything reaches them."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"unexpected call: {name}")


def services(registry: FakeRegistry) -> RankingServices:
    untouchable = Untouchable()
    return RankingServices(ModelCache(registry, untouchable, refresh_seconds=60), untouchable, untouchable)  # type: ignore[arg-type]


def request(**fields: object) -> RecommendRequest:
    return RecommendRequest.model_validate({"user_id": "u1", "model_id": "test_model_item_200", **fields})


def test_unique_ids_echo_nothing() -> None:
    assert duplicate_echo(["a", "b"], [{"price": 1}, {"price": 2}]) == [{}, {}]


def test_duplicates_echo_only_the_attributes_that_differ() -> None:
    echo = duplicate_echo(
        ["a", "b", "a", "a"],
        [
            {"price": 10, "stock": 1, "color": "red"},
            {"price": 99},
            {"price": 12, "stock": 1, "color": "red"},
            {"price": 10, "stock": 1},
        ],
    )
    assert echo == [{"price": 10, "color": "red"}, {}, {"price": 12, "color": "red"}, {"price": 10}]


def test_equal_json_numbers_are_not_echoed() -> None:
    assert duplicate_echo(["a", "a"], [{"price": 1}, {"price": 1.0}]) == [{}, {}]


def test_echo_tells_true_from_one_and_never_overwrites_id_or_score() -> None:
    echo = duplicate_echo(["a", "a"], [{"flag": True, "score": 1}, {"flag": 1, "score": 2}])
    assert echo == [{"flag": True}, {"flag": 1}]


def test_mock_scores_strictly_decrease_and_are_deterministic() -> None:
    scores = mock_scores(4)
    assert scores == [0.8, 0.6, 0.4, 0.2]
    assert mock_scores(4) == scores
    assert all(0 < s < 1 for s in mock_scores(1000))


def test_mock_200_keeps_input_order_and_honours_limit() -> None:
    response = rank_candidates("acme", request(item_ids=["c", "a", "b"], limit=2), services(FakeRegistry()))
    assert [(i.id, i.score) for i in response.items] == [("c", 0.75), ("a", 0.5)]
    assert response.rec_id.startswith("rec_")


@pytest.mark.parametrize(
    ("model_id", "error"),
    [
        ("test_model_item_400", BadRequest),
        ("test_model_item_429", TooManyRequests),
        ("test_model_item_503", ServiceUnavailable),
    ],
)
def test_error_mocks_raise_their_status(model_id: str, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        rank_candidates("acme", request(model_id=model_id, item_ids=["a"]), services(FakeRegistry()))
    assert model_id in str(caught.value)


def test_mock_models_never_touch_the_registry() -> None:
    registry = FakeRegistry()
    rank_candidates("acme", request(item_ids=["a"]), services(registry))
    assert registry.calls == []


def test_unknown_models_are_looked_up_in_the_callers_tenant_only() -> None:
    registry = FakeRegistry({("other", "m1"): ModelRecord("m1", "als")})
    with pytest.raises(ModelNotFound, match="model not found: 'm1'"):
        rank_candidates("acme", request(model_id="m1", item_ids=["a"]), services(registry))
    assert registry.calls == [("acme", "m1")]


def test_a_defined_but_untrained_model_is_not_ready() -> None:
    registry = FakeRegistry({("acme", "m1"): ModelRecord("m1", "als")})
    with pytest.raises(ModelNotReady, match="'m1' is untrained and has no version that can serve yet"):
        rank_candidates("acme", request(model_name="m1", model_id=None, item_ids=["a"]), services(registry))
