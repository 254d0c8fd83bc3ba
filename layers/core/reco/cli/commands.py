"""The ``reco`` commands, wired to the stores (imported only once the CLI knows which AWS to use)."""

from __future__ import annotations

import argparse
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import numpy as np

from reco.cli.output import print_table, progress
from reco.datasets.movielens import Ratings
from reco.demo import generate_demo
from reco.evaluation import format_table, quality_table, split_by_time, split_quality_table
from reco.imports import batches, check_within_retention, event_rows, fit_to_retention, item_rows, read_movielens
from reco.ingestion import ingest_events, ingest_items, ingest_users
from reco.item_files import ItemMapping, import_item_rows, read_item_file
from reco.models.recipes import RECIPES
from reco.records import IngestResult
from reco.registry import ModelRecord
from reco.schemas.models import AUTO, DEFAULT_BUDGET_SECONDS, DEFAULT_EVENT_WEIGHTS
from reco.services.training import training_services
from reco.session_evaluation import (
    describe_sessions,
    format_session_table,
    sequences_from_ratings,
    session_quality_table,
)
from reco.settings import get_settings
from reco.stores.catalog import catalog_store
from reco.stores.events import event_store
from reco.stores.models import model_registry
from reco.training.dataset import build_interactions
from reco.training.requests import TrainingJob
from reco.training.service import run_training

MAX_PRINTED_REJECTIONS = 5
# Batches in flight at once: while the store writes one, the next is validated and serialised
# (bench/storage.py: the client and the store then share the machine's cores).
IMPORT_WORKERS = 3
T = TypeVar("T")
R = TypeVar("R")


def in_order(work: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[tuple[T, R]]:
    """``(item, work(item))`` in the order of ``items``, with at most ``2 * workers`` items in flight."""
    with ThreadPoolExecutor(workers) as pool:
        pending: deque[tuple[T, Future[R]]] = deque()
        for item in items:
            pending.append((item, pool.submit(work, item)))
            if len(pending) >= 2 * workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


def _import(kind: str, tenant: str, rows: Iterable[dict[str, Any]], total: int | None) -> int:
    """Write rows in API-sized batches; report rejected rows (never dropped silently, never thousands of lines)."""
    writers: dict[str, Callable[..., IngestResult]] = {
        "items": ingest_items,
        "users": ingest_users,
        "events": partial(ingest_events, bulk=True),
    }
    ingest, store = writers[kind], _store_for(kind)
    accepted = duplicates = rejected = offset = 0
    bar = progress(batches(iter(rows)), total=None if total is None else -(-total // 1000), desc=kind, unit="batches")
    for batch, result in in_order(lambda batch: ingest(tenant, batch, store), bar, IMPORT_WORKERS):
        accepted += result.accepted
        duplicates += result.duplicates
        for rejection in result.rejected:
            if rejected < MAX_PRINTED_REJECTIONS:
                print(f"  rejected {kind} row {offset + rejection.index}: {rejection.error}")
            rejected += 1
        offset += len(batch)
    _print_counts(kind, accepted, duplicates, rejected)
    return rejected


def _print_counts(kind: str, accepted: int, duplicates: int, rejected: int) -> None:
    if rejected > MAX_PRINTED_REJECTIONS:
        print(f"  ... and {rejected - MAX_PRINTED_REJECTIONS:,} more rejected rows")
    already = f" ({duplicates:,} of them already stored)" if duplicates else ""
    print(f"{kind}: {accepted:,} accepted{already}, {rejected:,} rejected")


def _store_for(kind: str) -> Any:
    return event_store() if kind == "events" else catalog_store()


def _placed_times(ratings: Ratings, keep_timestamps: bool) -> np.ndarray:
    """The events' timestamps inside the event retention, decided for the whole import up front."""
    retention = get_settings().event_ttl_days
    if keep_timestamps:
        check_within_retention(ratings.timestamps, retention)
        return ratings.timestamps
    fit = fit_to_retention(ratings.timestamps, retention)
    print(fit.summary)
    return fit.timestamps


def import_movielens(args: argparse.Namespace) -> int:
    ratings = read_movielens(args.directory)
    times = _placed_times(ratings, args.keep_timestamps)
    bad = _import("items", args.tenant, item_rows(ratings), len(ratings.items))
    bad += _import("events", args.tenant, event_rows(ratings, times, prefix="ml"), len(ratings))
    return 1 if bad else 0


def import_csv(args: argparse.Namespace) -> int:
    from reco.datasets.movielens import read_ratings_csv

    ratings = read_ratings_csv(args.path, args.user_col, args.item_col, args.value_col, args.time_col, args.delimiter)
    times = _placed_times(ratings, args.keep_timestamps)
    return 1 if _import("events", args.tenant, event_rows(ratings, times, prefix="csv"), len(ratings)) else 0


def import_items(args: argparse.Namespace) -> int:
    mapping = ItemMapping(
        id=args.id_col,
        name=args.name_col,
        description=args.description_col,
        properties=args.properties,
        numbers=frozenset(args.numbers),
        lists=frozenset(args.lists),
        list_separator=args.list_separator,
    )
    rows = progress(read_item_file(args.path, mapping, args.format, args.delimiter), desc="items")
    report = import_item_rows(args.tenant, rows, catalog_store(), keep=MAX_PRINTED_REJECTIONS)
    for line, reason in report.first_rejections:
        print(f"  rejected items line {line}: {reason}")
    _print_counts("items", report.accepted, report.duplicates, report.rejected)
    return 1 if report.rejected else 0


def import_demo(args: argparse.Namespace) -> int:
    data = generate_demo(seed=args.seed)
    bad = _import("items", args.tenant, data.items, len(data.items))
    bad += _import("users", args.tenant, data.users, len(data.users))
    bad += _import("events", args.tenant, data.events, len(data.events))
    return 1 if bad else 0


def train(args: argparse.Namespace) -> int:
    registry = model_registry()
    record = registry.get(args.tenant, args.model)
    if record is None:
        if not args.recipe:
            raise LookupError(f"model not found: '{args.model}' (give --recipe to define it)")
        registry.define(args.tenant, ModelRecord(args.model, args.recipe, event_weights=dict(DEFAULT_EVENT_WEIGHTS)))
    job = TrainingJob(args.tenant, args.model, f"cli-{int(time.time())}")
    registry.start_training(args.tenant, args.model, job.job_id, stale_after_seconds=0)
    version = run_training(job, training_services())
    if version is None:
        failed = registry.get(args.tenant, args.model)
        print(f"reco train: training failed: {failed.reason if failed else 'unknown'}", file=sys.stderr)
        return 1
    print(f"{args.model}: version {version.version} published")
    metrics = {name: value for name, value in version.metrics.items() if name != "tuning"}
    print_table([{"metric": name, "value": value} for name, value in metrics.items()])
    if "tuning" in version.metrics:
        print(tuning_summary(version.metrics["tuning"]))
    return 0


def tuning_summary(tuning: dict[str, Any]) -> str:
    """The search in a few lines (every trial is in ``GET /v1/models/{id}``), or why it was skipped."""
    if "skipped" in tuning:
        return f"tuning skipped: {tuning['skipped']}"
    default, chosen = tuning["default"], tuning["chosen"]
    params = ", ".join(f"{k}={v}" for k, v in chosen["params"].items())
    return (
        f"tuning: {len(tuning['trials'])} trials in {tuning['seconds']:.1f} s (budget {tuning['budget_seconds']} s, "
        f"stopped: {tuning['stopped']}); holdout {tuning['metric']}: default {default['recipe']} {default['value']}, "
        f"popularity {tuning['popularity']}, chosen {chosen['recipe']} {chosen['value']}\n  chosen params: {params}"
    )


def evaluate(args: argparse.Namespace) -> int:
    ks = [int(k) for k in args.k.split(",") if k.strip()]
    sessions = args.protocol == "session"
    if args.max_predictions is not None and not sessions:
        raise ValueError("--max-predictions samples the session protocol: add --protocol session")
    if args.movielens:
        recipes = list(RECIPES) if args.recipes in (None, "all") else args.recipes.split(",")
        ratings = read_movielens(args.movielens)
        if sessions:
            rows = session_quality_table(
                sequences_from_ratings(ratings),
                recipes,
                ks,
                max_predictions=args.max_predictions,
                tune_budget=args.tune,
            )
            print(describe_sessions(rows))
            print(format_session_table(rows, ks))
        else:
            print(format_table(quality_table(ratings, recipes, ks, tune_budget=args.tune), ks))
        return 0
    if not args.model:
        raise ValueError("give a MODEL, or --movielens DIR")
    record = model_registry().get(args.tenant, args.model)
    if record is None:
        raise LookupError(f"model not found: '{args.model}'")
    items = [item.id for item in catalog_store().iter_items(args.tenant)]
    events = progress(event_store().iter_events(args.tenant), desc="events")
    interactions = build_interactions(events, record.event_weights, items)
    # An "auto" model is a search, not a recipe: it shows as the tuned rows (with its own budget by default).
    tune_budget = args.tune
    if record.recipe == AUTO and tune_budget is None:
        tune_budget = float((record.tune or {}).get("budget_seconds", DEFAULT_BUDGET_SECONDS))
    if args.recipes is None:
        names = [] if record.recipe == AUTO else [record.recipe]
    else:
        names = list(RECIPES) if args.recipes == "all" else args.recipes.split(",")
    wanted = {name: record.params if name == record.recipe else None for name in names}
    if sessions:
        table = session_quality_table(
            interactions, wanted, ks, max_predictions=args.max_predictions, tune_budget=tune_budget
        )
        print(f"{interactions.n_events} events, {describe_sessions(table)}")
        print(format_session_table(table, ks))
        return 0
    train_part, test = split_by_time(interactions)
    rows = split_quality_table(train_part, test, wanted, ks, tune_budget)
    held_out = sum(len(v) for v in test.values())
    print(f"{interactions.n_events} events, {len(test)} test users, {held_out} held-out items")
    print(format_table(rows, ks))
    return 0
