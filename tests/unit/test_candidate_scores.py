"""candidate_scores is user_scores restricted to the rows, for every recipe and every kind of request."""

from __future__ import annotations

import numpy as np
import pytest

from reco.models.interactions import Interactions
from reco.models.recipes import RECIPES, fit_recipe

RNG = np.random.default_rng(3)
USERS = [f"u{n}" for n in RNG.integers(0, 30, 600)]
ITEMS = [f"i{n}" for n in RNG.integers(0, 50, 600)]
DATA = Interactions.from_events(USERS, ITEMS, RNG.random(600).astype(np.float32) + 0.5, np.arange(600.0))
ROWS = np.array([7, 3, 3, 41, 0])
HISTORY = (np.array([1, 2, 2, 9]), np.array([1.0, 3.0, 1.0, 5.0], dtype=np.float32))


@pytest.mark.parametrize("recipe", sorted(RECIPES))
@pytest.mark.parametrize(("user_row", "history"), [(4, None), (4, HISTORY), (None, HISTORY), (None, None)])
def test_candidate_scores_match_the_full_scores(
    recipe: str, user_row: int | None, history: tuple[np.ndarray, np.ndarray] | None
) -> None:
    model = fit_recipe(recipe, {"factors": 8, "iterations": 3} if recipe == "als" else None, DATA)
    expected = model.user_scores(user_row, history)[ROWS]
    np.testing.assert_allclose(model.candidate_scores(user_row, history, ROWS), expected, rtol=1e-4, atol=1e-5)
