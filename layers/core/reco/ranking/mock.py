"""Reserved mock models: deterministic answers for integration tests before a model is trained."""

from __future__ import annotations

from reco.errors import BadRequest, RecoError, ServiceUnavailable, TooManyRequests

OK_MODEL = "test_model_item_200"
ERROR_MODELS: dict[str, type[RecoError]] = {
    "test_model_item_400": BadRequest,
    "test_model_item_429": TooManyRequests,
    "test_model_item_503": ServiceUnavailable,
}
MOCK_MODELS = frozenset({OK_MODEL, *ERROR_MODELS})


def is_mock_model(model_id: str) -> bool:
    return model_id in MOCK_MODELS


def mock_scores(count: int) -> list[float]:
    """Synthetic scores, strictly decreasing in input order so that input order is rank order.

    ``1 - (i + 1) / (count + 1)`` depends only on the position and the number of candidates,
    and stays strictly between 0 and 1 like a real model's score.
    """
    return [round(1.0 - (i + 1) / (count + 1), 6) for i in range(count)]


def raise_mock_error(model_id: str) -> None:
    """Raise the canned error of an error mock model; do nothing for the others."""
    error = ERROR_MODELS.get(model_id)
    if error is not None:
        status = error.status_code
        raise error(f"mock model '{model_id}' always answers {status}; use '{OK_MODEL}' for a 200")
