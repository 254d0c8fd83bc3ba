"""Training requests and training runs: events → fitted recipe → artifact → published version."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from reco.errors import ModelNotFound, NoTrainingData
from reco.evaluation import evaluate
from reco.event_weights import USER_PREFIX
from reco.models.artifact import ModelArtifact
from reco.models.interactions import Interactions
from reco.models.recipes import fit_recipe, resolve_params
from reco.models.segments import build_user_segments
from reco.observability import logger
from reco.records import Item, User, iso_millis
from reco.registry import ArtifactStorage, ModelRegistry, ModelVersion, artifact_key
from reco.schemas.models import AUTO, DEFAULT_BUDGET_SECONDS, DEFAULT_METRIC
from reco.training.dataset import build_interactions
from reco.training.requests import EventSource, TrainingJob
from reco.training.tuning import HOLDOUT_K, NoHoldout, fallback_recipe, holdout_split, tune

# Holdout metrics cost a second fit (tuning: one per trial): skip them for tenants big enough to make that expensive.
HOLDOUT_MAX_EVENTS = 2_000_000
# The metric a version is compared with popularity on when its model is not tuned.
QUALITY_METRIC = "recall@20"


class CatalogSource(Protocol):
    def iter_items(self, tenant: str) -> Iterator[Item]: ...

    def iter_users(self, tenant: str) -> Iterator[User]: ...


@dataclass(frozen=True)
class TrainingServices:
    registry: ModelRegistry
    events: EventSource
    catalog: CatalogSource
    artifacts: ArtifactStorage


def run_training(job: TrainingJob, services: TrainingServices) -> ModelVersion | None:
    """Fit the model's recipe on the tenant's events and publish the artifact as the next version.

    A failure is recorded in the registry (status ``failed`` with the reason) rather than raised:
    retrying a deterministic failure would only fail again.
    """
    registry = services.registry
    try:
        version = _train_and_publish(job, services)
    except Exception as error:  # every failure must reach the registry
        reason = str(error) if isinstance(error, NoTrainingData | ValueError) else f"{type(error).__name__}: {error}"
        logger.exception("training failed", extra={"model_id": job.model_id, "job_id": job.job_id})
        registry.fail(job.tenant, job.model_id, job.job_id, reason)
        return None
    logger.info("training published", extra={"model_id": job.model_id, "version": version.version})
    return version


def _train_and_publish(job: TrainingJob, services: TrainingServices) -> ModelVersion:
    record = services.registry.get(job.tenant, job.model_id)
    if record is None:
        raise ModelNotFound(f"model not found: '{job.model_id}'")
    read_started = time.time()
    properties = {item.id: item.properties for item in services.catalog.iter_items(job.tenant)}
    interactions = build_interactions(services.events.iter_events(job.tenant), record.event_weights, properties)
    if interactions.n_events == 0:
        raise NoTrainingData("no event of this tenant carries weight under the model's event_weights")
    metrics: dict[str, Any] = {
        "n_events": interactions.n_events,
        "n_users": interactions.n_users,
        "n_items": interactions.n_items,
    }
    # "auto" always searches: without a tune spec, with the spec's defaults ({}).
    tuning = record.tune if record.tune is not None else ({} if record.recipe == AUTO else None)
    if tuning is not None:
        recipe, params, found = tuned_choice(record.recipe, record.params, tuning, interactions)
        metrics.update(found)
    else:
        recipe, params = record.recipe, resolve_params(record.recipe, record.params)
        if interactions.n_events <= HOLDOUT_MAX_EVENTS:
            metrics.update(holdout_metrics(recipe, params, interactions))
    started = time.perf_counter()
    trained_at = iso_millis(datetime.now(UTC))
    user_properties = {USER_PREFIX + user.id: user.properties for user in services.catalog.iter_users(job.tenant)}
    artifact = ModelArtifact.train(
        recipe,
        params,
        interactions,
        item_properties=properties,
        metadata={
            "trained_at": trained_at,
            # Known users' events after this are folded in at request time. Never later than the
            # read: an event stamped in the future (up to a day is accepted) must not hide newer ones.
            "data_until": min(float(interactions.timestamps.max()), read_started),
            "event_weights": record.event_weights,
            "model_id": job.model_id,
            "job_id": job.job_id,
        },
        user_segments=build_user_segments(interactions, user_properties),
    )
    metrics["fit_seconds"] = round(time.perf_counter() - started, 3)
    number = services.registry.next_version(job.tenant, job.model_id)
    key = artifact_key(job.tenant, job.model_id, number)
    services.artifacts.put(key, artifact.to_bytes())
    version = ModelVersion(number, key, trained_at, metrics, recipe, params, holdout_quality(metrics))
    services.registry.publish(job.tenant, job.model_id, job.job_id, version)
    return version


def holdout_metrics(recipe: str, params: dict[str, Any], interactions: Interactions) -> dict[str, Any]:
    """Recall / NDCG / MRR / coverage at K on each user's newest 20 % of interactions (at most
    ``HOLDOUT_MAX_ROWS`` users or sessions, a seeded sample), fitted on the rest,
    and popularity's Recall@20 on the same split (the baseline :func:`holdout_quality` compares with)."""
    train, test = holdout_split(interactions)
    if not test:
        return {}
    result = evaluate(fit_recipe(recipe, params, train), train, test, ks=HOLDOUT_K)
    popularity = evaluate(fit_recipe("popularity", None, train), train, test, ks=HOLDOUT_K)[QUALITY_METRIC]
    return {
        **{f"holdout_{name}": round(float(value), 4) for name, value in result.items()},
        f"holdout_popularity_{QUALITY_METRIC}": round(float(popularity), 4),
    }


def tuned_choice(
    recipe: str, given: dict[str, Any], tuning: dict[str, Any], interactions: Interactions
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The recipe and params to refit on all events, and the metrics of the search that chose them.

    ``tuning`` is the definition's tune spec (``{}``: defaults). Without a holdout to compare trials on, or
    above HOLDOUT_MAX_EVENTS, the definition's params (for ``auto``: the fallback recipe) are trained as
    they are and ``metrics.tuning.skipped`` says why.
    """
    metric = str(tuning.get("metric", DEFAULT_METRIC))
    budget, seed = int(tuning.get("budget_seconds", DEFAULT_BUDGET_SECONDS)), int(tuning.get("seed", 0))
    spec = {"metric": metric, "budget_seconds": budget, "seed": seed}
    skipped = None
    if interactions.n_events > HOLDOUT_MAX_EVENTS:
        skipped = f"{interactions.n_events:,} events: tuning holds out and refits up to {HOLDOUT_MAX_EVENTS:,}"
    else:
        try:
            result = tune(recipe, given, interactions, metric, budget, seed)
        except NoHoldout as error:
            skipped = str(error)
    if skipped is not None:
        chosen = fallback_recipe(interactions) if recipe == AUTO else recipe
        params = resolve_params(chosen, None if recipe == AUTO else given)
        how = "its defaults" if recipe == AUTO else "the definition's params"
        return chosen, params, {"tuning": {**spec, "skipped": f"{skipped}; trained {chosen} with {how}"}}
    metrics: dict[str, Any] = {f"holdout_{name}": round(float(value), 4) for name, value in result.best.metrics.items()}
    metrics[f"holdout_popularity_{metric}"] = round(result.popularity, 4)
    metrics["tuning"] = result.record()
    return result.best.recipe, result.best.params, metrics


def holdout_quality(metrics: dict[str, Any]) -> str | None:
    """``below_popularity`` when the version's holdout metric (the tuning metric, else Recall@20) is below
    popularity's on the same split, ``ok`` otherwise, None without a holdout."""
    metric = (metrics.get("tuning") or {}).get("metric", QUALITY_METRIC)
    value, baseline = metrics.get(f"holdout_{metric}"), metrics.get(f"holdout_popularity_{metric}")
    if value is None or baseline is None:
        return None
    return "below_popularity" if value < baseline else "ok"
