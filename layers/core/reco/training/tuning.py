"""Automatic tuning: a recipe's params, or the recipe itself, chosen on the tenant's own holdout.

The holdout is the evaluation protocol's (``reco.evaluation``): every row's newest fifth of events,
users and sessions alike (``split_by_time(interactions, 0.2)``), scored over the whole catalog with
the row's training items excluded. Every trial fits on the other events and is scored on it.

Search (per recipe, over its ``SEARCH_SPACE`` less the params the definition fixed):

1. the definition's own params first — the *default* trial, always run, so a tuned version can
   never end below what training without tuning would have published;
2. neighbour search: the incumbent's one-param-at-a-time neighbours (the adjacent grid values of a
   number, every other value of a string or boolean), in an order drawn from the seeded Generator;
   the first one that beats the incumbent becomes the incumbent and its neighbours are tried next;
3. at a local optimum, random untried grid points (the same Generator): a better one restarts 2;
   ``PATIENCE`` of them in a row that are not better end the search (``converged``).

It also stops when the whole grid was tried (``space``) or when the next trial would overrun the
budget (``budget``): the next trial is estimated at the slowest trial of its recipe so far. The best
trial is the highest metric, ties keeping the earlier trial (so the default wins a tie). Trials are
the only randomness besides the recipes' own seeds: the same seed, data and budget give the same
trials, unless the wall clock stops one run earlier than another.

``"recipe": "auto"`` first runs each candidate recipe with its defaults (the first always, the others
while the budget allows), then tunes them best first with what is left. Popularity's metric on the
same holdout is computed once (cheap) as the baseline a version is flagged against.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from reco.evaluation import evaluate, sample_test, split_by_time
from reco.models.ease import EASE
from reco.models.interactions import Interactions
from reco.models.recipes import RECIPES, SESSION_RECIPES, fit_recipe, resolve_params
from reco.schemas.models import AUTO, DEFAULT_BUDGET_SECONDS, DEFAULT_METRIC, METRICS
from reco.training.dataset import is_session_shaped

HOLDOUT_FRACTION = 0.2
HOLDOUT_K = (10, 20)
# Held-out rows scored per trial: a seeded sample above this, so a trial of a session recipe (scored
# row by row) costs seconds, not minutes, on a tenant with 100,000 sessions.
HOLDOUT_MAX_ROWS = 5_000
# Random grid points in a row that do not beat a local optimum before the search ends as converged.
PATIENCE = 8
# Set-based recipes ``auto`` tries on every tenant, in this order (the cheapest first on a shop catalog).
USER_RECIPES = ("ease", "item_knn", "als")
# What ``auto`` trains when there is nothing to tune on (no holdout, or too many events to hold out).
FALLBACK_RECIPES = {"sessions": "sequential_rules", "users": "als"}

Stopped = Literal["budget", "space", "converged"]


class NoHoldout(ValueError):
    """No row has two events: there is nothing to hold out and compare trials on."""


@dataclass(frozen=True)
class Trial:
    recipe: str
    params: dict[str, Any]  # resolved: every param of the recipe
    metrics: dict[str, float]  # ``evaluate`` on the holdout
    value: float  # metrics[metric]
    fit_seconds: float
    seconds: float  # fit and scoring: what the budget is spent on


@dataclass(frozen=True)
class TuningResult:
    metric: str
    budget_seconds: float
    seed: int
    trials: list[Trial]
    best: Trial
    default: Trial  # the definition's params (for auto: the best recipe with its defaults)
    popularity: float
    stopped: Stopped
    seconds: float
    fixed: tuple[str, ...] = ()  # the params the definition gave: not searched

    def record(self) -> dict[str, Any]:
        """The search as a version's ``metrics.tuning`` (JSON-ready; trials list only the searched params)."""

        def shown(trial: Trial, *, full: bool) -> dict[str, Any]:
            searched = (name for name in RECIPES[trial.recipe].SEARCH_SPACE if name not in self.fixed)
            keys = trial.params if full else searched
            return {
                "recipe": trial.recipe,
                "params": {key: trial.params[key] for key in keys},
                "value": round(trial.value, 4),
            }

        return {
            "metric": self.metric,
            "budget_seconds": self.budget_seconds,
            "seed": self.seed,
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
            "default": shown(self.default, full=True),
            "chosen": shown(self.best, full=True),
            "popularity": round(self.popularity, 4),
            "trials": [
                {**shown(trial, full=False), "fit_seconds": round(trial.fit_seconds, 3)} for trial in self.trials
            ],
        }


def auto_candidates(interactions: Interactions) -> list[str]:
    """The recipes ``auto`` tries: session recipes first when the data is session-shaped, then the set-based
    ones; EASE only when its dense items x items matrix fits its default ``max_items``."""
    users = [
        name for name in USER_RECIPES if name != "ease" or interactions.n_items <= int(EASE.DEFAULT_PARAMS["max_items"])
    ]
    return sorted(SESSION_RECIPES) + users if is_session_shaped(interactions) else users


def fallback_recipe(interactions: Interactions) -> str:
    """``auto``'s recipe when nothing can be tuned: robust at any size, for the shape of the data."""
    return FALLBACK_RECIPES["sessions" if is_session_shaped(interactions) else "users"]


def tune(
    recipe: str,
    given_params: Mapping[str, Any] | None,
    interactions: Interactions,
    metric: str = DEFAULT_METRIC,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    seed: int = 0,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> TuningResult:
    """Search ``recipe``'s params (or, for ``"auto"``, the recipes and their params) on the holdout.

    ``given_params`` stay fixed (``"auto"`` takes none). Raises :class:`NoHoldout` when no row has two
    events, ValueError for an unknown metric or bad params. The caller refits the best on all events.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown tuning metric {metric!r}; allowed: {', '.join(METRICS)}")
    if recipe == AUTO and given_params:
        raise ValueError('params belong to a chosen recipe: "auto" tunes each recipe\'s params itself')
    started = clock()
    train, test = holdout_split(interactions)
    if not test:
        raise NoHoldout("no user or session has two events yet: there is nothing to hold out and tune on")
    run = _Runner(train, test, metric, started + budget_seconds, clock)
    popularity = run.score(fit_recipe("popularity", None, train))[metric]
    rng = np.random.default_rng(seed)
    fixed = dict(given_params or {})
    if recipe == AUTO:
        defaults, stops = _default_trials(run, auto_candidates(interactions))
    else:
        defaults, stops = [run.trial(recipe, resolve_params(recipe, fixed))], []
    # Best defaults first; a stable sort keeps the candidates' order among equals.
    for default in sorted(defaults, key=lambda trial: -trial.value):
        stops.append(_Search(default.recipe, fixed, rng).run(run, default))
        if stops[-1] == "budget":
            break
    stopped: Stopped = "budget" if "budget" in stops else ("space" if all(s == "space" for s in stops) else "converged")
    return TuningResult(
        metric=metric,
        budget_seconds=budget_seconds,
        seed=seed,
        trials=run.trials,
        best=_best(run.trials),
        default=_best(defaults),
        popularity=popularity,
        stopped=stopped,
        seconds=clock() - started,
        fixed=tuple(sorted(fixed)),
    )


def holdout_split(interactions: Interactions) -> tuple[Interactions, dict[int, Any]]:
    """The evaluation protocol's split, its test rows sampled down to ``HOLDOUT_MAX_ROWS``."""
    train, test = split_by_time(interactions, HOLDOUT_FRACTION)
    return train, sample_test(test, HOLDOUT_MAX_ROWS)


def _best(trials: Sequence[Trial]) -> Trial:
    """The highest value; a tie keeps the earlier trial."""
    best = trials[0]
    for trial in trials[1:]:
        if trial.value > best.value:
            best = trial
    return best


def _default_trials(run: _Runner, candidates: Sequence[str]) -> tuple[list[Trial], list[Stopped]]:
    trials = [run.trial(candidates[0], resolve_params(candidates[0], None))]
    for name in candidates[1:]:
        if not run.affords(name):
            return trials, ["budget"]
        trials.append(run.trial(name, resolve_params(name, None)))
    return trials, []


class _Runner:
    """Fits and scores trials on one split, and keeps the clock."""

    def __init__(
        self,
        train: Interactions,
        test: Mapping[int, Any],
        metric: str,
        deadline: float,
        clock: Callable[[], float],
    ) -> None:
        self.train, self.test, self.metric = train, test, metric
        self.deadline, self.clock = deadline, clock
        self.trials: list[Trial] = []

    def score(self, model: Any) -> dict[str, float]:
        return evaluate(model, self.train, self.test, ks=HOLDOUT_K)

    def trial(self, recipe: str, params: dict[str, Any]) -> Trial:
        started = self.clock()
        model = fit_recipe(recipe, params, self.train)
        fitted = self.clock()
        metrics = self.score(model)
        trial = Trial(recipe, params, metrics, metrics[self.metric], fitted - started, self.clock() - started)
        self.trials.append(trial)
        return trial

    def affords(self, recipe: str) -> bool:
        """Whether one more trial of ``recipe`` fits in the budget, estimated by the slowest one of that recipe
        so far (of any recipe, for one not tried yet): parameters such as factors change a fit's cost."""
        own = [t.seconds for t in self.trials if t.recipe == recipe] or [t.seconds for t in self.trials] or [0.0]
        return self.clock() + max(own) <= self.deadline


class _Search:
    """Neighbour search with random restarts over one recipe's grid (see the module's docstring)."""

    def __init__(self, recipe: str, fixed: Mapping[str, Any], rng: np.random.Generator) -> None:
        self.recipe, self.rng = recipe, rng
        space = RECIPES[recipe].SEARCH_SPACE
        self.space = {name: tuple(values) for name, values in space.items() if name not in fixed}
        self.fixed = resolve_params(recipe, fixed)
        self.tried: set[tuple[Any, ...]] = set()

    def _key(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(params[name] for name in self.space)

    def _params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return resolve_params(self.recipe, {**self.fixed, **values})

    def neighbours(self, incumbent: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One-param-at-a-time changes of ``incumbent``, untried, in a seeded order."""
        found = []
        for name, values in self.space.items():
            for value in _adjacent(values, incumbent[name]):
                params = self._params({name: value})
                if self._key(params) not in self.tried:
                    found.append(params)
        order = self.rng.permutation(len(found))
        return [found[i] for i in order]

    def random_untried(self) -> dict[str, Any] | None:
        """An untried grid point drawn uniformly (the grids are small: at most a few hundred points)."""
        # The grid's values already have their params' types, so a combination is its own key.
        grid = [combination for combination in itertools.product(*self.space.values()) if combination not in self.tried]
        if not grid:
            return None
        return self._params(dict(zip(self.space, grid[int(self.rng.integers(len(grid)))], strict=True)))

    def run(self, runner: _Runner, default: Trial) -> Stopped:
        incumbent = default
        self.tried.add(self._key(default.params))
        queue = self.neighbours(incumbent.params)
        misses = 0
        while True:
            exploring = not queue
            if exploring and misses >= PATIENCE:
                return "converged"
            candidate = queue.pop(0) if queue else self.random_untried()
            if candidate is None:
                return "space"
            if self._key(candidate) in self.tried:
                continue  # queued before a move made it tried
            if not runner.affords(self.recipe):
                return "budget"
            self.tried.add(self._key(candidate))
            trial = runner.trial(self.recipe, candidate)
            if trial.value > incumbent.value:
                incumbent, misses = trial, 0
                queue = self.neighbours(incumbent.params)
            elif exploring:
                misses += 1


def _adjacent(values: Sequence[Any], current: Any) -> list[Any]:
    """A numeric grid's values on either side of ``current``; every other value of a string or boolean grid."""
    if any(isinstance(v, bool | str) for v in values):
        return [v for v in values if v != current]
    ordered = sorted(values)
    below = [v for v in ordered if v < current]
    above = [v for v in ordered if v > current]
    return ([below[-1]] if below else []) + ([above[0]] if above else [])
