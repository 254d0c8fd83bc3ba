"""recommend_items: the domain behind /recommendation/… and /scenarios/preview/.

One request: resolve the scenario flow to a case (``reco.scenarios.engine``), pick the model the
case allows, score the whole catalog for the requester (an item's neighbours, a profile, a
session), run the case over those scores (``run_case``), and cut the page the cursor points at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np

from reco.decisions import Decision, DecisionLog
from reco.errors import ItemNotFound, WrongParameter
from reco.ids import new_rec_id
from reco.models.interactions import Bools
from reco.observability import logger
from reco.recommendations.case import CaseRun, run_case
from reco.recommendations.cold_start import similar_users_scores
from reco.recommendations.context_items import CONTEXT_TYPES, with_context_items
from reco.recommendations.cursor import (
    PageCursor,
    check_cursor,
    decode_page_cursor,
    encode_page_cursor,
    fingerprint,
)
from reco.recommendations.facts import CatalogReader, EventReader, Requester, RequestFacts
from reco.recommendations.item_properties import RECO_TYPE as ITEM_PROPERTIES_TYPE
from reco.recommendations.item_properties import property_match_scores
from reco.recommendations.scores import Scores as Scores  # re-exported: the list, customer and chat plans use it
from reco.scenarios.engine import DEFAULT_AMT, RequestCase, Resolution, resolve_scenario
from reco.schemas.recommendation import ItemsQuery, ItemsResponse, PreviewScenario
from reco.schemas.scenarios import Case, Scenario
from reco.serving.cache import ModelCache, ServingModel
from reco.serving.scoring import score_candidates

# Pages go this deep into a list; beyond it there is no next_cursor (nobody scrolls further, and
# diversity reranking costs grow with the depth).
MAX_DEPTH = 1000
ITEM_TYPES = frozenset({"item_to_items", "precomputed_item_to_items"})
PROFILE_TYPES = frozenset({"profile_to_items", "precomputed_profile_to_items", "profile_to_items_w_ctx_items"})
SESSION_TYPES = frozenset({"session_to_items", "session_to_items_w_ctx_items"})


class ScenarioReader(Protocol):
    def get(self, tenant: str, reco_type: str, name: str) -> Scenario | None: ...

    def default_name(self, tenant: str, reco_type: str) -> str | None: ...


@dataclass(frozen=True)
class RecommendationServices:
    """What scenario-driven recommendations read and write, injected (no AWS in the domain)."""

    models: ModelCache
    events: EventReader
    catalog: CatalogReader
    scenarios: ScenarioReader
    decisions: DecisionLog


@dataclass(frozen=True)
class ItemsRequest:
    reco_type: str
    query: ItemsQuery
    requester: Requester
    # Where query.scenario was saved ("context 3") when the caller did not name it: a saved flow that
    # reaches a missing scenario is skipped with a warning, a named one fails with SCENARIO_NOT_FOUND.
    scenario_saved_by: str | None = None


@dataclass(frozen=True)
class ItemsResult:
    response: ItemsResponse
    max_age: int | None = None  # the case's cache_control.max_age


class TenantScenarios:
    """The engine's ScenarioSource: a tenant's stored scenarios, under preview overrides if any."""

    def __init__(self, store: ScenarioReader, tenant: str, overrides: Sequence[PreviewScenario] = ()) -> None:
        self._store, self._tenant = store, tenant
        self._overrides = {(p.reco_type, p.name): p.scenario for p in overrides}
        self._read: dict[tuple[str, str], Scenario | None] = {}

    def scenario(self, reco_type: str, name: str) -> Scenario | None:
        key = (reco_type, name)
        if key in self._overrides:
            return self._overrides[key]
        if key not in self._read:
            self._read[key] = self._store.get(self._tenant, reco_type, name)
        return self._read[key]

    def default_name(self, reco_type: str) -> str | None:
        return self._store.default_name(self._tenant, reco_type)


@dataclass(frozen=True)
class ListPlan:
    """A request resolved to its case and model, before anything is scored."""

    tenant: str
    request: ItemsRequest
    facts: RequestFacts
    resolution: Resolution
    serving: ServingModel
    digest: str  # what a page cursor is bound to: tenant, reco type, requester and resolved case

    @property
    def case(self) -> Case:
        return self.resolution.case


def plan_list(
    tenant: str,
    request: ItemsRequest,
    services: RecommendationServices,
    *,
    as_of: datetime,
    preview: Sequence[PreviewScenario] | None = None,
    identity: Sequence[Any] = (),
    check_digest: Callable[[str], None] | None = None,
) -> ListPlan:
    """Resolve the scenario flow to a case and pick the model the case allows.

    ``check_digest`` sees the request's fingerprint before any model is read: a cursor issued for
    another request is refused as such, whatever state this tenant's models are in.
    """
    query, requester = request.query, request.requester
    facts = RequestFacts(tenant, requester, services.events, services.catalog, as_of)
    resolution = resolve_scenario(
        request.reco_type,
        query.scenario,
        TenantScenarios(services.scenarios, tenant, preview or ()),
        facts,
        skip_default=query.skip_default_scenario,
        request=RequestCase(query.amt, query.filters or [], query.reranking or [], query.exclude_rated_items),
        saved_by=request.scenario_saved_by,
    )
    for warning in resolution.warnings:
        logger.warning("saved scenario flow skipped", extra={"tenant": tenant, "reason": warning})
    case = resolution.case
    digest = fingerprint(
        [tenant, resolution.reco_type, _identity(requester), case.model_dump(mode="json"), list(identity)]
    )
    if check_digest is not None:
        check_digest(digest)
    allowlist = case.algorithms.split("|") if case.algorithms else None
    serving = services.models.serving(tenant, allowlist)
    return ListPlan(tenant, request, facts, resolution, serving, digest)


def rank_plan(plan: ListPlan, scores: Scores, depth: int, restrict: Bools | None = None) -> CaseRun:
    """The case's ranked list over ``scores`` down to ``depth`` rows; ``restrict``: the only rows allowed."""
    excluded = scores.excluded if restrict is None else scores.excluded | ~restrict
    return run_case(plan.case, plan.serving.artifact, scores.values, excluded, plan.facts, depth)


def recommend_items(
    tenant: str,
    request: ItemsRequest,
    services: RecommendationServices,
    *,
    preview: Sequence[PreviewScenario] | None = None,
    request_id: str | None = None,
    now: datetime | None = None,
) -> ItemsResult:
    query = request.query
    cursor = decode_page_cursor(query.cursor) if query.cursor else None
    as_of = cursor.as_of if cursor else (now or datetime.now(UTC))
    checked = cursor
    plan = plan_list(
        tenant,
        request,
        services,
        as_of=as_of,
        preview=preview,
        check_digest=(lambda digest: check_cursor(checked, digest)) if checked is not None else None,
    )
    offset = cursor.offset if cursor else 0
    scores = request_scores(plan, services)
    case = plan.case
    amt = case.amt if case.amt is not None else DEFAULT_AMT
    depth = min(offset + amt, MAX_DEPTH)
    run = rank_plan(plan, scores, depth + 1)
    page = run.rows[offset:depth]
    more = amt > 0 and len(run.rows) > depth and depth < MAX_DEPTH
    items = plan.serving.artifact.item_ids[page].tolist()
    response = ItemsResponse(
        items_id=[str(i) for i in items],
        next_cursor=encode_page_cursor(PageCursor(depth, as_of, plan.digest)) if more else None,
        evaluated_scenarios=plan.resolution.evaluated_scenarios,
        warnings=[*plan.resolution.warnings, *scores.warnings, *run.warnings],
    )
    if preview is None:  # a preview stores nothing, not even its decision
        page_scores = [float(scores.values[r]) for r in page]
        _log(services.decisions, plan, response, page_scores, scores.fallback, request_id)
    max_age = case.cache_control.max_age if case.cache_control is not None else None
    return ItemsResult(response, max_age)


def _identity(requester: Requester) -> list[Any]:
    """What makes a list someone's: ids and what the body sent (not the cursor)."""
    return [
        requester.user_id,
        requester.session_id,
        requester.item_id,
        [i.model_dump(mode="json") for i in requester.interactions],
        [r.model_dump(mode="json") for r in requester.ratings],
        dict(requester.user_properties or {}),
        dict(requester.item_properties or {}),
        list(requester.context_items),
        {k: v for k, v in requester.params.items() if k != "cursor"},
    ]


def request_scores(plan: ListPlan, services: RecommendationServices) -> Scores:
    """The reco type's scores: an item's neighbours, a user's profile, or a session's history."""
    artifact, requester, tenant = plan.serving.artifact, plan.facts.requester, plan.tenant
    reco_type = plan.resolution.reco_type
    excluded = np.zeros(len(artifact.item_ids), dtype=bool)
    if reco_type in ITEM_TYPES:
        if requester.item_id is None:
            raise WrongParameter(f"{reco_type} needs an item_id", data={"parameter": "item_id"})
        row = int(artifact.item_rows([requester.item_id])[0])
        if row >= 0:
            excluded[row] = True
            return Scores(artifact.model.similar_scores(row), excluded)
        if services.catalog.get_item(tenant, requester.item_id) is None:
            raise ItemNotFound(f"item not found: '{requester.item_id}'", data={"item_id": requester.item_id})
        warning = f"item '{requester.item_id}' has no interactions in the trained model: trending items shown"
        return Scores(np.asarray(artifact.trending, dtype=np.float32), excluded, [warning], "trending")
    if reco_type == ITEM_PROPERTIES_TYPE:
        return property_match_scores(artifact, requester.item_properties)
    if reco_type in PROFILE_TYPES:
        if requester.user_id is None:
            raise WrongParameter(f"{reco_type} needs a user_id", data={"parameter": "user_id"})
        user_id: str | None = requester.user_id
    elif reco_type in SESSION_TYPES:
        user_id = None
    else:
        raise WrongParameter(
            f"reco type '{reco_type}' is not served here: route generic scenarios to item_to_items, "
            "profile_to_items, session_to_items (each also *_w_ctx_items) or item_properties_to_items",
            data={"reco_type": reco_type},
        )
    values, source = score_candidates(artifact, user_id, plan.facts.scored_events(), None)
    warnings = [f"{source.reason}: {source.fallback} items shown"] if source.fallback else []
    scores = Scores(np.asarray(values, dtype=np.float32), excluded, warnings, source.fallback, source)
    if source.fallback is not None:  # nobody known: users sharing the requester's properties, if any
        similar = similar_users_scores(artifact, plan.facts.user_properties(), str(source.reason))
        scores = scores if similar is None else Scores(similar.values, excluded, similar.warnings, similar.fallback)
    if reco_type in CONTEXT_TYPES:
        scores = with_context_items(artifact, scores, requester.context_items)
    return scores


def _log(
    decisions: DecisionLog,
    plan: ListPlan,
    response: ItemsResponse,
    scores: list[float],
    fallback: str | None,
    request_id: str | None,
) -> None:
    request, resolution, serving = plan.request, plan.resolution, plan.serving
    requester = request.requester
    context: dict[str, Any] = {
        "reco_type": resolution.reco_type,
        "scenario": request.query.scenario,
        "evaluated_scenarios": resolution.evaluated_scenarios,
        "experiments": [
            {"id": e.test_id, "scenario": e.scenario_name, "variant": e.variant} for e in resolution.experiments
        ],
    }
    if requester.item_id is not None:
        context["item_id"] = requester.item_id
    decisions.record(
        plan.tenant,
        Decision(
            rec_id=new_rec_id(),
            endpoint=request.reco_type,
            items=list(response.items_id),
            scores=[round(s, 6) for s in scores],
            user_id=requester.user_id,
            session_id=requester.session_id,
            model_id=serving.record.model_id,
            model_version=serving.version,
            context=context,
            fallback=fallback,
            request_id=request_id,
        ),
    )
