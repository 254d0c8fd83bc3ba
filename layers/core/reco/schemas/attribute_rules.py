"""Attribute rules of a model definition: how the ranker uses a per-item attribute.

Apart from the rest of :mod:`reco.schemas.models` because every serving function reads them with the
model, while only the models function reads a whole definition.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reco.schemas.ranking import CheckedAttributeValue


class Condition(BaseModel):
    """A test on one attribute value: ``{"op": "eq", "value": 0}``."""

    model_config = ConfigDict(extra="forbid")

    op: Literal["eq", "neq", "gt", "gte", "lt", "lte", "in", "exists"] = Field(description="Comparison.")
    value: CheckedAttributeValue | None = Field(None, description="Right-hand side (omitted for exists).")

    @model_validator(mode="after")
    def _value_fits_op(self) -> Condition:
        if self.op == "exists":
            return self
        if self.value is None:
            raise ValueError(f"op '{self.op}' needs a value")
        if self.op in {"gt", "gte", "lt", "lte"} and (
            isinstance(self.value, bool) or not isinstance(self.value, int | float)
        ):
            raise ValueError(f"op '{self.op}' compares numbers: give a numeric value")
        if self.op == "in" and not isinstance(self.value, list):
            raise ValueError("op 'in' needs an array of strings")
        return self


MAX_CONTEXT_CONDITIONS = 8
ContextPath = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^.]+(\.[^.]+){0,7}$")]


class AttributeRule(BaseModel):
    """How the ranker uses one per-item attribute (from the request, else the catalog).

    ``boost`` / ``demote`` add / subtract ``weight`` times the candidates' score range when ``when``
    holds; ``prefer_lower`` / ``prefer_higher`` add up to ``weight`` times the score range, scaled
    linearly over the candidates' values (a price preference).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    effect: Literal["boost", "demote", "prefer_lower", "prefer_higher"] = Field(description="What the rule does.")
    when: Condition | None = Field(None, description="Required for boost and demote.")
    weight: float = Field(0.2, gt=0, le=10, description="Strength, as a fraction of the candidates' score range.")
    context: dict[ContextPath, Condition] | None = Field(
        None,
        max_length=MAX_CONTEXT_CONDITIONS,
        description="The rule applies only to requests whose `context` meets every condition; a key is a "
        "path into the context (`device_type`, `geo.country`). Without it the rule applies to every request.",
    )

    @model_validator(mode="after")
    def _when_fits_effect(self) -> AttributeRule:
        if self.effect in {"boost", "demote"} and self.when is None:
            raise ValueError(f"effect '{self.effect}' needs a 'when' condition, e.g. {{'op': 'eq', 'value': 0}}")
        if self.effect in {"prefer_lower", "prefer_higher"} and self.when is not None:
            raise ValueError(f"effect '{self.effect}' takes no 'when' condition")
        return self
