"""recommend_for_customer: the domain behind POST /api/recommend/recommend.

The reference's process flow: the request is logged (a ``sequence`` row) before anything is
generated; the template's scores are computed over the whole serving catalog; the customer's
preferences shape them (price range: a filter; categories: a boost); the tenant's default scenario
of the template's reco type runs over them (``plan_list`` / ``rank_plan``, as the scenario-driven
lists do); what was served is logged (a ``decision`` row and a ``Decision`` whose ``rec_id`` is the
request id, so that events carrying it can be attributed).

Templates:

- ``personalized``: the histories folded in as a session (``session_to_items``): browsed items as
  ``view`` events, purchases as ``purchase`` events, so the model's event weights make purchases
  count more; without a usable history, the trending items;
- ``trending``: the artifact's time-decayed popularity;
- ``similar``: the neighbours of the last browsed item (``item_to_items``);
- ``new_arrivals``: newest first by the date property (epoch numbers, or ISO-8601 UTC text, whose
  sorted vocabulary orders the dates); items without a date are never shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from reco.customer.logs import RequestLogs, decision_log, sequence_log
from reco.decisions import Decision
from reco.errors import BadRequest
from reco.models.artifact import ModelArtifact
from reco.models.columns import ItemColumns, column_key
from reco.models.interactions import F32, Bools, Strs
from reco.recommendations.facts import Requester
from reco.recommendations.service import (
    ItemsRequest,
    ListPlan,
    RecommendationServices,
    Scores,
    plan_list,
    rank_plan,
    request_scores,
)
from reco.schemas.customer import (
    CustomerRecommendation,
    CustomerRecommendRequest,
    CustomerRecommendResponse,
    PriceRange,
    SequenceData,
)
from reco.schemas.recommendation import Interaction, ItemsQuery
from reco.settings import Settings, get_settings

ENDPOINT = "customer_recommend"
SCORE_DECIMALS = 4
MAX_INTEGER_ID_DIGITS = 18  # canonical ids of up to 18 digits fit an int64 (and a JSON number safely parsed as one)


@dataclass(frozen=True)
class CustomerServices:
    """What the customer API reads and writes, injected (no AWS in the domain)."""

    recommendations: RecommendationServices
    logs: RequestLogs


@dataclass(frozen=True)
class Shaped:
    """Scores after the customer's data: purchases excluded, preferred categories boosted."""

    scores: Scores
    restrict: Bools | None  # the price range: the only rows allowed (None: no price filter)
    eligible: Bools  # rows that may be returned before the scenario's case: the scale of the shown scores


def recommend_for_customer(
    tenant: str,
    request: CustomerRecommendRequest,
    services: CustomerServices,
    *,
    request_id: str,
    subject: str | None,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> CustomerRecommendResponse:
    started = now or datetime.now(UTC)
    settings = settings or get_settings()
    data = request.sequence_data
    if request.template == "similar" and not data.browsing_history:
        raise BadRequest(
            "the similar template needs sequence_data.browsing_history: it returns items similar to the last "
            "browsed item",
            data={"parameter": "sequence_data.browsing_history"},
        )
    asked = sequence_log(
        request_id,
        started,
        task=request.task,
        template=request.template,
        limit=request.limit,
        sequence_data=data.raw,
        subject=subject,
    )
    services.logs.write(tenant, asked)  # before generation: it stays if generation fails

    plan = plan_list(tenant, _items_request(request, started), services.recommendations, as_of=started)
    artifact = plan.serving.artifact
    scores = _template_scores(plan, request, services.recommendations, settings)
    shaped = _shape(artifact, data, scores, settings)
    run = rank_plan(plan, shaped.scores, request.limit, restrict=shaped.restrict)
    rows = run.rows[: request.limit]
    shown = _shown_scores(shaped.scores.values, shaped.eligible, rows)
    ids = [str(i) for i in artifact.item_ids[rows].tolist()]
    as_integers = integer_ids(artifact)
    results = [
        CustomerRecommendation(recommendation_id=int(item) if as_integers else item, score=score, rank=rank)
        for rank, (item, score) in enumerate(zip(ids, shown, strict=True), start=1)
    ]
    warnings = [*shaped.scores.warnings, *run.warnings]
    _log_decision(tenant, services, plan, request, request_id, asked.created_at, results, shaped.scores, warnings)
    return CustomerRecommendResponse(status_code=200, results=results)


def _items_request(request: CustomerRecommendRequest, as_of: datetime) -> ItemsRequest:
    """The template as a scenario-driven request: similar is item_to_items, every other template a session."""
    data = request.sequence_data
    params = {"task": request.task, "template": request.template, "limit": request.limit}  # runtime_param reads
    interactions = _history(data, as_of)
    if request.template == "similar":
        requester = Requester(item_id=data.browsing_history[-1], interactions=interactions, params=params)
        return ItemsRequest("item_to_items", ItemsQuery(), requester)
    return ItemsRequest("session_to_items", ItemsQuery(), Requester(interactions=interactions, params=params))


def _history(data: SequenceData, as_of: datetime) -> list[Interaction]:
    """Both histories as events, the last of each list the most recent (one second apart, newest at ``as_of``).

    Interleaving by recency matters: a session is scored from its newest events only.
    """
    now = as_of.timestamp()
    interactions = []
    for kind, ids in (("purchase", data.purchase_history), ("view", data.browsing_history)):
        for age, item_id in enumerate(reversed(ids)):
            interactions.append(Interaction(item_id=item_id, interaction_type=kind, timestamp=now - age))
    return interactions


def _template_scores(
    plan: ListPlan, request: CustomerRecommendRequest, services: RecommendationServices, settings: Settings
) -> Scores:
    artifact = plan.serving.artifact
    nothing_excluded = np.zeros(len(artifact.item_ids), dtype=bool)
    if request.template == "trending":
        return Scores(np.asarray(artifact.trending, dtype=np.float32), nothing_excluded)
    if request.template == "new_arrivals":
        return Scores(_recency(artifact, settings.date_property), nothing_excluded)
    if request.template == "similar":
        seed = plan.facts.requester.item_id
        assert seed is not None
        if artifact.item_rows([seed])[0] < 0 and services.catalog.get_item(plan.tenant, seed) is None:
            raise BadRequest(
                f"the last browsed item '{seed}' is not in the catalog: the similar template needs a known item "
                "at the end of sequence_data.browsing_history",
                data={"parameter": "sequence_data.browsing_history", "item_id": seed},
            )
    return request_scores(plan, services)  # a known seed outside the model: trending, with a warning


def _require_property(columns: ItemColumns, name: str, use: str) -> None:
    """A 400 when the serving model's items lack a property the request relies on (``use`` says how)."""
    if name not in columns.names():
        raise BadRequest(
            f"{use}, which the serving model's items do not carry: send it with the items and retrain",
            data={"property": name},
        )


def _recency(artifact: ModelArtifact, name: str) -> F32:
    """Newest highest: the dense rank of each item's date (exact, where float32 epoch seconds would round)."""
    columns = artifact.columns
    _require_property(columns, name, f"the new_arrivals template orders items by their '{name}' property")
    kind = columns.kind(name)
    column = columns.columns[column_key(name)]
    if kind == "number":
        dated = ~np.isnan(column)
    elif kind == "string":
        dated = column >= 0  # codes into the sorted vocabulary: ISO-8601 UTC text sorts as the dates do
    else:
        raise BadRequest(
            f"the new_arrivals template needs '{name}' to hold dates (ISO-8601 text or epoch seconds), not {kind}",
            data={"property": name},
        )
    values = np.full(len(artifact.item_ids), np.nan, dtype=np.float32)  # NaN: never shown
    ranks = np.unique(column[dated], return_inverse=True)[1]
    values[dated] = ranks.reshape(-1).astype(np.float32)
    return values


def _shape(artifact: ModelArtifact, data: SequenceData, scores: Scores, settings: Settings) -> Shaped:
    """Purchases excluded, the price range as the allowed rows, preferred categories above all others."""
    excluded = scores.excluded.copy()
    purchased = artifact.item_rows(data.purchase_history) if data.purchase_history else np.empty(0, dtype=np.int64)
    excluded[purchased[purchased >= 0]] = True
    preferences = data.customer_preferences
    restrict = _price_mask(artifact, settings.price_property, preferences.price_range)
    values = np.asarray(scores.values, dtype=np.float64)
    eligible = ~excluded & np.isfinite(values)
    if restrict is not None:
        eligible &= restrict
    if preferences.categories:
        preferred = _category_mask(artifact, settings.category_property, preferences.categories)
        pool = values[eligible]
        if pool.size:
            # Shifted past the whole eligible span: every preferred item outranks every other one,
            # and the list still fills with the others when few items match.
            values = np.where(preferred, values + (pool.max() - pool.min()) + 1.0, values)
    shaped = replace(scores, values=values.astype(np.float32), excluded=excluded)
    return Shaped(shaped, restrict, eligible)


def _price_mask(artifact: ModelArtifact, name: str, price_range: PriceRange | None) -> Bools | None:
    if price_range is None or (price_range.min is None and price_range.max is None):
        return None
    columns = artifact.columns
    _require_property(columns, name, f"customer_preferences.price_range filters on the '{name}' property")
    if columns.kind(name) != "number":
        raise BadRequest(
            f"customer_preferences.price_range needs '{name}' to hold numbers, not {columns.kind(name)}",
            data={"property": name},
        )
    return columns.between(name, price_range.min, price_range.max)  # items without a price never match


def _category_mask(artifact: ModelArtifact, name: str, categories: list[str]) -> Bools:
    """Items whose category (a string, or any element of an array) is one of ``categories``."""
    columns = artifact.columns
    _require_property(columns, name, f"customer_preferences.categories are matched against the '{name}' property")
    kind = columns.kind(name)
    if kind in ("string", "strings"):
        return columns.isin(name, categories)
    if kind == "number":  # numeric category ids: "12" names category 12
        return columns.isin(name, [n for n in (_number(c) for c in categories) if n is not None])
    raise BadRequest(
        f"customer_preferences.categories cannot match '{name}': it holds booleans", data={"property": name}
    )


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _shown_scores(values: F32, eligible: Bools, rows: np.ndarray) -> list[float]:
    """Min-max scaled over every eligible item, 4 decimals, never above the score ranked before it."""
    if not len(rows):
        return []
    pool = values[eligible].astype(np.float64)
    low, high = float(pool.min()), float(pool.max())
    picked = values[rows].astype(np.float64)
    scaled = (picked - low) / (high - low) if high > low else np.ones(len(rows))
    rounded = np.round(np.clip(scaled, 0.0, 1.0), SCORE_DECIMALS)
    return [float(s) for s in np.minimum.accumulate(rounded)]  # diversity may have reordered


# --- integer item ids ----------------------------------------------------------------------------


def integer_ids(artifact: ModelArtifact) -> bool:
    """True when every id of the serving catalog is a canonical decimal integer (``0``, ``124``; not ``0124``)."""
    known = artifact.derived.get("integer_ids")
    if not isinstance(known, bool):
        known = all_canonical_integers(artifact.item_ids)
        artifact.derived["integer_ids"] = known
    return known


def all_canonical_integers(item_ids: Strs) -> bool:
    """Vectorised over the id array's UTF-32 code units: a run of ASCII digits, then only padding."""
    ids = np.asarray(item_ids, dtype=np.str_)
    width = ids.dtype.itemsize // 4
    if ids.size == 0 or width == 0:
        return ids.size == 0
    codes = ids.view(np.uint32).reshape(ids.size, width)
    digits = (codes >= ord("0")) & (codes <= ord("9"))
    lengths = digits.sum(axis=1)
    in_text = np.arange(width) < lengths[:, None]
    shaped = np.all(digits == in_text, axis=1) & np.all((codes == 0) == ~in_text, axis=1)
    sized = (lengths >= 1) & (lengths <= MAX_INTEGER_ID_DIGITS)
    canonical = (codes[:, 0] != ord("0")) | (lengths == 1)
    return bool(np.all(shaped & sized & canonical))


# --- the decision ----------------------------------------------------------------------------------


def _log_decision(
    tenant: str,
    services: CustomerServices,
    plan: ListPlan,
    request: CustomerRecommendRequest,
    request_id: str,
    asked_at: datetime,
    results: list[CustomerRecommendation],
    scores: Scores,
    warnings: list[str],
) -> None:
    resolution, serving = plan.resolution, plan.serving
    context: dict[str, Any] = {
        "task": request.task,
        "template": request.template,
        "reco_type": resolution.reco_type,
        "evaluated_scenarios": resolution.evaluated_scenarios,
        "experiments": [
            {"id": e.test_id, "scenario": e.scenario_name, "variant": e.variant} for e in resolution.experiments
        ],
        "warnings": warnings,
    }
    if plan.facts.requester.item_id is not None:
        context["item_id"] = plan.facts.requester.item_id
    served = {
        "results": [r.model_dump(mode="json") for r in results],
        "model_id": serving.record.model_id,
        "model_version": serving.version,
        "fallback": scores.fallback,
        **context,
    }
    # Never before the sequence row, so that a request's rows read in order (newest first).
    at = max(datetime.now(UTC), asked_at + timedelta(milliseconds=1))
    services.logs.write(tenant, decision_log(request_id, at, served))
    services.recommendations.decisions.record(
        tenant,
        Decision(
            rec_id=request_id,
            endpoint=ENDPOINT,
            items=[str(r.recommendation_id) for r in results],
            scores=[r.score for r in results],
            model_id=serving.record.model_id,
            model_version=serving.version,
            context=context,
            fallback=scores.fallback,
            request_id=request_id,
        ),
    )
