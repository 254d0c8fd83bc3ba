"""/v1/models requests and responses: model definitions, the registry's view, training requests."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from reco.models.recipes import resolve_params
from reco.schemas.attribute_rules import AttributeRule
from reco.schemas.bounds import Number

AUTO = "auto"
Metric = Literal["recall@20", "ndcg@20", "mrr@20"]
METRICS: tuple[Metric, ...] = get_args(Metric)
DEFAULT_METRIC: Metric = "recall@20"
DEFAULT_BUDGET_SECONDS = 120
# The train function stops at 900 s: the search gets at most 840, leaving time to read the events and refit.
MAX_BUDGET_SECONDS = 840

MODEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
RESERVED_MODEL_PREFIX = "test_model_"
MAX_EVENT_TYPES = 64
MAX_ATTRIBUTE_RULES = 32

Recipe = Literal["popularity", "trending", "item_knn", "als", "ease", "session_knn", "sequential_rules", "auto"]
RECIPE_DESCRIPTION = (
    "popularity (summed event weights); trending (popularity decayed by age); item_knn (cosine item-item "
    "neighbours); als (implicit matrix factorisation); ease (closed-form linear item-item model); session_knn "
    "(items of the most similar recent sessions, V-SKNN); sequential_rules (what followed each item in "
    "sessions, SR); auto (each applicable recipe tried on a holdout of your events, the best kept and tuned)."
)
MAX_SEED = 2**32 - 1
EventType = Annotated[StrictStr, Field(min_length=1, max_length=64)]

# Interactions that say more about a taste weigh more; a 1-3 star rating says "not for me".
DEFAULT_EVENT_WEIGHTS: dict[str, Any] = {
    "view": 1.0,
    "click": 1.0,
    "add_to_cart": 3.0,
    "purchase": 5.0,
    "rating": {"weight": 1.0, "min_value": 4.0},
    "*": 1.0,
}


# Checked by the definition's validator, so one message names the event type; declared for clients.
WeightValue = Annotated[float, WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1000})]


class EventWeight(BaseModel):
    """How much one event type counts; events whose ``value`` is below ``min_value`` are ignored."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    weight: float = Field(ge=0, le=1000, description="Weight of one event of this type.")
    min_value: Number | None = Field(None, description="Ignore events of this type whose value is lower.")
    use_value: StrictBool = Field(False, description="Multiply the weight by the event's value.")


class TuneSpec(BaseModel):
    """Automatic tuning: params searched on a holdout of the tenant's newest events, the best refitted on all."""

    model_config = ConfigDict(extra="forbid")

    metric: Metric = Field(
        DEFAULT_METRIC,
        description="What the search maximises on the holdout: recall@20 (share of held-out items in the top "
        "20), ndcg@20 (the same, weighted by rank) or mrr@20 (1 / rank of the first hit; for next-item sessions).",
    )
    budget_seconds: int = Field(
        DEFAULT_BUDGET_SECONDS,
        ge=1,
        le=MAX_BUDGET_SECONDS,
        strict=True,
        description="Wall time the search may spend; no trial starts that would overrun it. The final fit on "
        "all events comes on top.",
    )
    seed: int = Field(
        0, ge=0, le=MAX_SEED, strict=True, description="Seeds the order the search tries params in (repeatable)."
    )


class ModelDefinition(BaseModel):
    """``PUT /v1/models/{model_id}``: what to train and how the ranker serves it."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "recipe": "als",
                    "params": {"factors": 64, "iterations": 15},
                    "event_weights": {"view": 1, "add_to_cart": 3, "purchase": 5},
                    "attributes": {
                        "stock": {"effect": "demote", "when": {"op": "eq", "value": 0}, "weight": 1.0},
                        "on_sale": {"effect": "boost", "when": {"op": "eq", "value": True}, "weight": 0.2},
                        "price": {"effect": "prefer_lower", "weight": 0.1},
                    },
                }
            ]
        },
    )

    recipe: Recipe = Field(description=RECIPE_DESCRIPTION)
    params: Annotated[dict[Annotated[str, Field(max_length=64)], Any], Field(max_length=32)] | Literal["auto"] = Field(
        default_factory=dict,
        description='Hyper-parameters of the recipe; omitted ones take defaults. "auto": tune them all '
        '(shorthand for "tune": {}).',
    )
    tune: TuneSpec | None = Field(
        None,
        description="Tune the params on a holdout of your events before training (the ones given in params stay "
        'fixed); each version\'s metrics.tuning shows the search. Implied by "params": "auto" and "recipe": "auto".',
    )
    event_weights: dict[EventType, WeightValue | EventWeight] | None = Field(
        None,
        max_length=MAX_EVENT_TYPES,
        description='Weight per event type ("*" for all others); omitted: view/click 1, add_to_cart 3, '
        "purchase 5, rating 1 when value ≥ 4, others 1.",
    )
    attributes: dict[Annotated[str, Field(min_length=1, max_length=128)], AttributeRule] = Field(
        default_factory=dict,
        max_length=MAX_ATTRIBUTE_RULES,
        description="Per-item attributes wired into ranking inference, by catalog property name.",
    )

    @model_validator(mode="after")
    def _params_fit_recipe(self) -> ModelDefinition:
        if self.recipe == AUTO:
            if self.stored_params():
                raise ValueError(
                    'params belong to a chosen recipe: with "recipe": "auto" every recipe is tuned with its own '
                    "params, so leave params out; to fix some of them, choose the recipe and add "
                    '"tune": {} (or "params": "auto")'
                )
            return self
        # The recipe's own check: unknown names, wrong types and out-of-range values, with the allowed ones.
        resolve_params(self.recipe, self.stored_params())
        return self

    def stored_params(self) -> dict[str, Any]:
        """The params the definition fixes ("auto" fixes none)."""
        return {} if self.params == "auto" else dict(self.params)

    def stored_tune(self) -> dict[str, Any] | None:
        """The tune spec to keep: the one given, else its defaults when params or the recipe say "auto"."""
        if self.tune is not None:
            return self.tune.model_dump()
        return TuneSpec().model_dump() if AUTO in (self.params, self.recipe) else None

    @field_validator("event_weights")
    @classmethod
    def _finite_weights(cls, weights: dict[str, float | EventWeight] | None) -> dict[str, float | EventWeight] | None:
        for name, weight in (weights or {}).items():
            if isinstance(weight, float | int) and not (math.isfinite(weight) and 0 <= weight <= 1000):
                raise ValueError(f"event weight of '{name}' must be between 0 and 1000")
        return weights

    def stored_event_weights(self) -> dict[str, Any]:
        if self.event_weights is None:
            return dict(DEFAULT_EVENT_WEIGHTS)
        return {
            name: weight.model_dump(exclude_none=True) if isinstance(weight, EventWeight) else float(weight)
            for name, weight in self.event_weights.items()
        }


class ModelVersionView(BaseModel):
    version: int = Field(description="Monotonic version number.")
    trained_at: str = Field(description="ISO-8601 time the version was published.")
    recipe: str | None = Field(
        None, description='The recipe this version trained (what "auto" chose); null for versions before it was kept.'
    )
    params: dict[str, Any] | None = Field(None, description="The params it trained with (what tuning chose).")
    quality: Literal["ok", "below_popularity"] | None = Field(
        None,
        description="below_popularity: plain popularity scores better on the same holdout (by the tuning metric, "
        "else recall@20) — the version serves, but has not learnt much yet; null without a holdout.",
    )
    metrics: dict[str, Any] = Field(
        description="Training metrics: sizes, fit time, holdout Recall / NDCG / MRR / coverage at 10 and 20, "
        "popularity's score on the same holdout, and for a tuned model the search (tuning)."
    )


class ModelView(BaseModel):
    """``GET /v1/models/{model_id}``: the definition, its status and its versions."""

    model_id: str
    recipe: str
    params: dict[str, Any] = Field(description="The resolved hyper-parameters (defaults filled in).")
    tune: TuneSpec | None = Field(None, description="The tuning asked for (defaults filled in); null: no tuning.")
    event_weights: dict[str, Any]
    attributes: dict[str, Any]
    status: Literal["untrained", "training", "ready", "failed"] = Field(
        description="untrained → training → ready (or failed, with the reason); retraining keeps serving the "
        "current version until the new one is published."
    )
    reason: str | None = Field(
        None,
        description="Why the last training failed; for a ready model, a warning about the serving version "
        "(its quality is below_popularity).",
    )
    current_version: int | None = Field(None, description="The version that serves requests.")
    versions: list[ModelVersionView] = Field(default_factory=list, description="Published versions, newest first.")
    created_at: str
    updated_at: str


class ModelList(BaseModel):
    models: list[ModelView]
    next_cursor: str | None = None


class TrainingAccepted(BaseModel):
    """``POST /v1/models/{model_id}/train`` → 202."""

    model_id: str
    status: Literal["training"] = "training"
    job_id: str = Field(description="Identifies this training run in the logs and the registry.")
