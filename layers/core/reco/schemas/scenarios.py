"""Scenarios API documents: a scenario is one of case / condition / ab_test / alias.

Field names, enums and limits are the reference's (``scenarios-api.txt``). Enumerated operators are
case-insensitive there, so they are lower-cased on the way in. Documents are stored and returned
as sent (``exclude_unset``): what a merchandiser PUTs is what GET gives back.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_serializer,
    model_validator,
)

from reco.schemas.bounds import FreeForm, Number

RecoType = Literal[
    "item_to_items",
    "profile_to_items",
    "session_to_items",
    "profile_to_item_properties",
    "profile_to_items_w_ctx_items",
    "session_to_items_w_ctx_items",
    "precomputed_item_to_items",
    "precomputed_profile_to_items",
    "session_to_item_properties",
    "profiles_group_to_items",
    "chat_to_items",
    "item_properties_to_items",
    "generic_input_to_items",
    "llm_text_completion",
    "llm_chat_completion",
]
# What a generic scenario's case may route to.
TargetRecoType = Literal[
    "item_to_items",
    "profile_to_items",
    "session_to_items",
    "profile_to_items_w_ctx_items",
    "session_to_items_w_ctx_items",
    "precomputed_item_to_items",
    "precomputed_profile_to_items",
    "item_properties_to_items",
]
GENERIC = "generic_input_to_items"
ScenarioType = Literal["case", "ab_test", "condition", "alias"]
SCENARIO_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._:-]{0,127}$"
MAX_FILTERS = 10
MAX_RERANKING = 10
MAX_SEQUENCE = 2
MAX_AMT = 64
# Model ids (see schemas/models.py), '|'-separated: "algorithms" is the case's model allowlist.
ALGORITHMS_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(\|[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,15}$"


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


FilterOp = Annotated[
    Literal["eq", "lt", "lte", "gt", "gte", "in", "empty", "notempty", "neq", "notin", "ftsearch"],
    BeforeValidator(_lower),
]
ScenarioName = Annotated[StrictStr, Field(pattern=SCENARIO_NAME_PATTERN, description="Scenario name.")]
PropertyName = Annotated[StrictStr, Field(min_length=1, max_length=128, description="Item-property name.")]
InteractionType = Annotated[StrictStr, Field(min_length=1, max_length=64)]

_VALUELESS_OPS = {"empty", "notempty"}
_LIST_OPS = {"in", "notin"}


def is_user_property_ref(value: Any) -> bool:
    """``{"type": "user_property", "value": "<name>"}``: a filter value read from the requesting user."""
    return (
        isinstance(value, dict)
        and value.get("type") == "user_property"
        and isinstance(value.get("value"), str)
        and set(value) == {"type", "value"}
    )


def _check_filter_value(op: str, value: Any) -> None:
    if op in _VALUELESS_OPS or is_user_property_ref(value):
        return
    if isinstance(value, dict):
        raise ValueError(
            'a filter value is a JSON scalar, a list, or {"type": "user_property", "value": "<user property name>"}'
        )
    if value is None:
        raise ValueError(f"op '{op}' needs a value")
    if op in _LIST_OPS and not isinstance(value, list):
        raise ValueError(f'op \'{op}\' needs a list value, e.g. ["a", "b"]')
    if op not in _LIST_OPS and isinstance(value, list):
        raise ValueError(f"op '{op}' compares one value: use 'in' / 'notin' for a list")
    if op == "ftsearch" and not (isinstance(value, str) and value.strip()):
        raise ValueError("op 'ftsearch' needs a non-empty text value")


class FilterRule(BaseModel):
    """A condition on an item property; every filter of a case must hold (AND)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    property_name: PropertyName
    op: FilterOp = Field(description="Filter operator (case-insensitive).")
    value: JsonValue = Field(None, description="Filter value (omitted for empty / notempty).")

    @model_validator(mode="after")
    def _value_fits_op(self) -> FilterRule:
        _check_filter_value(self.op, self.value)
        return self


class ItemFilter(FilterRule):
    disable_preload: StrictBool = Field(
        False, description="Apply after candidate preselection (for request-dependent exclusion lists)."
    )


class RerankingOptions(BaseModel):
    """Diversity options. The ``[internal]`` ones are accepted and stored, and have no effect."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    activation_period: StrictInt | None = Field(None, ge=1, le=1000, description="Only the last N picks count.")
    max_activation_count: StrictInt | None = Field(None, ge=1, le=1000, description="Cap on counted repeats.")
    default_malus: float | None = Field(None, ge=0, le=1000, description="Malus of items missing the property.")
    filters: list[FilterRule] | None = Field(None, max_length=MAX_FILTERS)
    rank_divider: Number | None = None
    similarity: FreeForm | None = None
    malus: FreeForm | None = None
    rank_scores: FreeForm | None = None
    randomness: FreeForm | None = None


class RerankingRule(BaseModel):
    """Diversity on a property: items repeating values already shown are pushed down."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    property_name: PropertyName
    op: Annotated[Literal["diversity"], BeforeValidator(_lower)] = Field(description="Reranking op.")
    weight: StrictFloat = Field(1.0, gt=0, le=100, description="Penalty per repeat; 0-1.5 recommended.")
    options: RerankingOptions | None = None


class CandidatesPreselection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: StrictStr | None = Field(None, max_length=64)
    params: FreeForm | None = None
    item_selector_config: FreeForm | None = None


class CacheControl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_age: StrictInt | None = Field(None, ge=0, le=31_536_000, description="Seconds, sent as Cache-Control.")


class AdvancedExcludeRatedItems(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    enabled: StrictBool | None = None
    exclude_above_value: Number | None = None
    exclude_below_value: Number | None = None
    ensure_exclude_remaining_ratings: StrictBool | None = None


class PropsExclusion(BaseModel):
    """Exclude items sharing ``property_name`` values with items the requester interacted with so."""

    model_config = ConfigDict(extra="forbid")

    property_name: PropertyName
    interaction_types: list[InteractionType] = Field(min_length=1, max_length=50)


class SequenceStep(BaseModel):
    """One block of a case sequence: its own amount, filters and reranking."""

    model_config = ConfigDict(extra="forbid")

    amt: StrictInt | None = Field(None, ge=0, le=MAX_AMT, description="Items from this block.")
    filters: list[ItemFilter] | None = Field(None, max_length=MAX_FILTERS)
    reranking: list[RerankingRule] | None = Field(None, max_length=MAX_RERANKING)


class CaseSequence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sequence: list[SequenceStep] = Field(min_length=1, max_length=MAX_SEQUENCE)


class Retrieval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amt: StrictInt | None = Field(None, ge=0, le=MAX_AMT)
    algorithms: StrictStr | None = Field(None, max_length=512)
    property: StrictStr | None = Field(None, max_length=128)
    filters: list[FilterRule] | None = Field(None, max_length=MAX_FILTERS)
    reranking: list[RerankingRule] | None = Field(None, max_length=MAX_RERANKING)
    history_injection: FreeForm | None = None
    candidates_preselection: CandidatesPreselection | None = None
    properties_returned: list[StrictStr] | None = Field(None, max_length=64)


class Case(BaseModel):
    """The parameters a recommendation runs with (the leaf of every scenario flow)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    amt: StrictInt | None = Field(None, ge=0, le=MAX_AMT, description="Maximum amount of items returned.")
    filters: list[ItemFilter] | None = Field(None, max_length=MAX_FILTERS, description="Filters (AND).")
    reranking: list[RerankingRule] | None = Field(None, max_length=MAX_RERANKING, description="Diversity rules.")
    exclude_rated_items: StrictBool | None = Field(None, description="Exclude items the requester interacted with.")
    table: StrictStr | None = Field(None, max_length=128, description="Accepted for compatibility; no effect.")
    algorithms: StrictStr | None = Field(
        None, pattern=ALGORITHMS_PATTERN, description="Model allowlist: model ids separated by '|'; first ready wins."
    )
    candidates_preselection: CandidatesPreselection | None = None
    force_session_optimization: FreeForm | None = None
    cache_control: CacheControl | None = None
    advanced_exclude_rated_items: AdvancedExcludeRatedItems | None = None
    exclude_items_with_interaction_types: list[InteractionType] | None = Field(None, max_length=50)
    exclude_props_of_items_with_interaction_types: list[PropsExclusion] | None = Field(None, max_length=10)
    interactions_to_ratings_params: JsonValue = None
    case_sequence: CaseSequence | None = None
    chat_params: FreeForm | None = None
    reco_type: TargetRecoType | None = Field(None, description="Generic scenarios: the reco type to run.")
    scenario: ScenarioName | None = Field(None, description="Generic scenarios: the scenario of that reco type.")
    model: StrictStr | None = Field(None, max_length=256)
    retrieval: Retrieval | None = None
    system_prompt: StrictStr | None = Field(None, max_length=100_000)
    max_tokens: StrictInt | None = Field(None, ge=1, le=1_000_000)
    temperature: float | None = Field(None, ge=0, le=10)


ConditionOp = Annotated[Literal["gt", "lt", "eq", "in", "gte", "lte", "notempty"], BeforeValidator(_lower)]


class ConditionTest(BaseModel):
    """What a condition tests; which name field is needed depends on ``condition_type``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    function_name: Annotated[Literal["n_ratings", "n_interactions"], BeforeValidator(_lower)] | None = None
    property_name: PropertyName | None = None
    param_name: Annotated[StrictStr, Field(min_length=1, max_length=128)] | None = None
    op: ConditionOp
    value: JsonValue = None


_CONDITION_FIELD = {"user_function": "function_name", "item_property": "property_name", "runtime_param": "param_name"}


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    condition_type: Annotated[Literal["user_function", "item_property", "runtime_param"], BeforeValidator(_lower)] = (
        Field(description="Type of condition.")
    )
    if_: ConditionTest = Field(alias="if", description="Condition tested at runtime.")
    then: ScenarioName = Field(description="Scenario to evaluate if the condition is true.")
    else_: ScenarioName = Field(alias="else", description="Scenario to evaluate if the condition is false.")

    @model_validator(mode="after")
    def _test_fits_type(self) -> Condition:
        needed = _CONDITION_FIELD[self.condition_type]
        test = self.if_
        if getattr(test, needed) is None:
            raise ValueError(f"a {self.condition_type} condition needs if.{needed}")
        extra = [f for f in _CONDITION_FIELD.values() if f != needed and getattr(test, f) is not None]
        if extra:
            raise ValueError(f"a {self.condition_type} condition takes if.{needed}, not if.{', if.'.join(extra)}")
        if test.op == "notempty":
            return self
        if test.value is None:
            raise ValueError(f"op '{test.op}' needs a value")
        if test.op == "in" and not isinstance(test.value, list):
            raise ValueError("op 'in' needs a list value")
        numeric = isinstance(test.value, int | float) and not isinstance(test.value, bool)
        if test.op in {"gt", "gte", "lt", "lte"} and not (numeric or isinstance(test.value, str)):
            raise ValueError(f"op '{test.op}' compares a number or a string")
        if self.condition_type == "user_function" and test.op != "in" and not numeric:
            raise ValueError(f"{test.function_name} is a count: compare it with a number")
        return self


class AbTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[StrictStr, Field(min_length=1, max_length=128)] = Field(description="A/B test id.")
    scenario_a: ScenarioName = Field(description="Scenario of variant A.")
    scenario_b: ScenarioName = Field(description="Scenario of variant B.")


class Alias(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario_name: ScenarioName = Field(description="Name of an existing scenario of the same reco type.")


class Scenario(BaseModel):
    """The PUT body: exactly one of case / condition / ab_test / alias, as ``scenario_type`` says."""

    model_config = ConfigDict(extra="forbid")

    scenario_type: ScenarioType
    metadata: FreeForm | None = Field(None, description="Free-form; filterable in GET /scenarios/.")
    case: Case | None = None
    condition: Condition | None = None
    ab_test: AbTest | None = None
    alias: Alias | None = None

    @model_validator(mode="after")
    def _one_body(self) -> Scenario:
        given = [name for name in ("case", "condition", "ab_test", "alias") if getattr(self, name) is not None]
        if given != [self.scenario_type]:
            shown = ", ".join(given) or "none"
            raise ValueError(
                f"scenario_type '{self.scenario_type}' needs exactly the field '{self.scenario_type}'; got: {shown}"
            )
        return self

    def document(self) -> dict[str, Any]:
        """The scenario as stored and returned: the fields that were sent, operators lower-cased."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def targets(self, reco_type: str) -> list[tuple[str, str | None]]:
        """The (reco_type, name) pairs this scenario leads to; name None = that reco type's default."""
        if self.alias is not None:
            return [(reco_type, self.alias.scenario_name)]
        if self.condition is not None:
            return [(reco_type, self.condition.then), (reco_type, self.condition.else_)]
        if self.ab_test is not None:
            return [(reco_type, self.ab_test.scenario_a), (reco_type, self.ab_test.scenario_b)]
        if self.case is not None and reco_type == GENERIC and self.case.reco_type is not None:
            return [(self.case.reco_type, self.case.scenario)]
        return []


class ScenarioWritten(BaseModel):
    """PUT response: what is worth knowing about an accepted scenario."""

    warnings: list[str] = Field(default_factory=list, description="Things that will not work as written yet.")


class StoredScenario(BaseModel):
    """GET response, and one entry of the list."""

    warnings: list[str] | None = Field(None, description="Optional list of warnings.")
    name: str
    reco_type: RecoType
    scenario: dict[str, JsonValue]

    @model_serializer(mode="wrap")
    def _without_empty_warnings(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if not data.get("warnings"):
            data.pop("warnings", None)  # the reference's examples show none
        return data


class ScenarioList(BaseModel):
    has_next: bool = Field(description="Whether there are more pages.")
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page.")
    scenarios: list[StoredScenario]


class DefaultScenario(BaseModel):
    """PATCH body and GET response of /scenarios-default/{reco_type}/."""

    model_config = ConfigDict(extra="forbid")

    name: ScenarioName
