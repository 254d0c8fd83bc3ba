"""The numpy recommender core against plain lower bounds, in one run.

1. ``ALS`` fit time on MovieLens 1M (ratings >= 4, binary) against ``implicit``'s CPU ALS (conjugate
   gradient, same factors, iterations, regularization and confidence), with Recall@20 of both on the
   protocol split, so that speeds are compared at equal quality. ``implicit`` comes from
   requirements-bench.txt; it is never a layer dependency.
2. Single-request ranking latency (known user, 20-event fold-in, 1,000 candidates) on synthetic
   64-factor float32 models of 10k, 100k and 1M items, against bare numpy: a matrix-vector
   product, ``np.argpartition`` and a sort of the top 20.
3. Artifact load: ``ModelArtifact.from_bytes`` against ``np.load`` of the same bytes.

Sections needing ``../shared/data/ml-1m`` or ``implicit`` are skipped with a reason when absent.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.timing import timed
from reco.datasets.movielens import read_ratings_csv
from reco.evaluation import evaluate, ratings_split
from reco.models.als import ALS
from reco.models.artifact import ModelArtifact
from reco.models.interactions import CSR, F32, I64, Interactions

ML1M = Path(__file__).resolve().parents[2] / "shared/data/ml-1m"
PARAMS: dict[str, Any] = dict(ALS.DEFAULT_PARAMS)  # factors 64, iterations 15, cg_steps 3
CATALOGS = (10_000, 100_000, 1_000_000)
N, USERS, HISTORY, CANDIDATES = 20, 1_000, 20, 1_000
REPEATS = int(os.environ.get("BENCH_REPEATS", "200"))
# One BLAS thread for single requests: a Lambda of up to 1,769 MB has one vCPU at most, and on a
# busy host a second BLAS thread waits for a scheduler tick (p95s of 8 ms on 10k items).
RANKING_BLAS_THREADS = int(os.environ.get("BENCH_BLAS_THREADS", "1")) or None
SLOW_FIT_SECONDS = 20.0
Row = dict[str, Any]


def numpy_blas() -> dict[str, Any]:
    """numpy's BLAS and its thread count (threadpoolctl comes with implicit)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {}
    for pool in threadpool_info():
        if pool["user_api"] == "blas" and "numpy" in pool["filepath"]:
            return {"blas": f"{pool['internal_api']} {pool['version']}", "blas_threads": pool["num_threads"]}
    return {}


def blas_limit(threads: int | None) -> contextlib.AbstractContextManager[Any]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    limiter: contextlib.AbstractContextManager[Any] = threadpool_limits(threads, "blas")
    return limiter


def fresh(events: Interactions) -> Interactions:
    """The same events without cached CSRs, so that every timed fit builds its own."""
    return Interactions(events.user_ids, events.item_ids, events.users, events.items, events.weights, events.timestamps)


def fit_seconds(fit: Callable[[], Any]) -> dict[str, Any]:
    """Median wall and CPU (all threads) seconds of 3 fits, or of 1 past SLOW_FIT_SECONDS; warm-up done."""
    wall: list[float] = []
    cpu: list[float] = []
    while len(wall) < 3 and (not wall or wall[0] <= SLOW_FIT_SECONDS):
        start, start_cpu = time.perf_counter(), time.process_time()
        fit()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {"seconds": statistics.median(wall), "cpu_seconds": statistics.median(cpu), "runs": len(wall)}


def elapsed_ms(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def micros(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """p50 and p95 in µs of ``repeats`` calls, after warm-up calls (bench.recommend's timer)."""
    samples = timed(fn, repeats)
    return statistics.median(samples), statistics.quantiles(samples, n=20)[18]


def ml1m_section() -> tuple[list[Row], ModelArtifact | None, str | None]:
    """Fit rows of ours and implicit, our artifact fitted on all of ratings_ge4, or why it was skipped."""
    if not (ML1M / "ratings_ge4.csv").exists():
        return [], None, f"{ML1M} is absent"
    ratings = read_ratings_csv(ML1M / "ratings_ge4.csv")
    ones = np.ones(len(ratings), np.float32)
    full = Interactions.from_events(ratings.user_ids, ratings.item_ids, ones, ratings.timestamps)
    try:
        import scipy.sparse
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError as error:
        reason = f"implicit cannot be imported ({error}): pip install -r requirements-bench.txt"
        return [], ModelArtifact.build("als", PARAMS, ALS(PARAMS).fit(full), full), reason

    def implicit_fit(csr: CSR, threads: int) -> Any:
        # implicit's c_ui is alpha·w_ui, ours 1 + alpha·w_ui: on binary weights alpha + 1 is the same
        # objective. Its OpenMP loop calls BLAS per user: BLAS at 1 thread, as implicit asks for.
        matrix = scipy.sparse.csr_matrix((csr.data, csr.indices, csr.indptr), shape=csr.shape)
        with warnings.catch_warnings(), threadpool_limits(1, "blas"):
            warnings.simplefilter("ignore", RuntimeWarning)
            model = AlternatingLeastSquares(
                factors=PARAMS["factors"],
                regularization=PARAMS["regularization"],
                alpha=PARAMS["alpha"] + 1.0,
                iterations=PARAMS["iterations"],
                use_cg=True,
                calculate_training_loss=False,
                num_threads=threads,
                random_state=PARAMS["random_state"],
            )
            model.fit(matrix, show_progress=False)
        return model

    # The fits on the protocol's train split give Recall@20 and warm both libraries up.
    train, test = ratings_split(ratings)
    theirs = implicit_fit(train.csr(), 0)
    factors = {"user_factors": np.asarray(theirs.user_factors), "item_factors": np.asarray(theirs.item_factors)}
    sizes = {"n_items": np.array(train.n_items), "n_users": np.array(train.n_users)}
    models = {"ours": ALS(PARAMS).fit(train), "implicit": ALS.from_arrays({**sizes, **factors}, PARAMS)}
    recall = {name: evaluate(model, train, test, (N,))[f"recall@{N}"] for name, model in models.items()}
    omp = max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp"), default=1)
    fitted: list[ALS] = []
    rows: list[Row] = []
    timing = fit_seconds(lambda: fitted.append(ALS(PARAMS).fit(fresh(full))))
    rows.append({"model": "ours", "threads": f"BLAS {numpy_blas().get('blas_threads', '?')}", **timing})
    with threadpool_limits(1, "blas"):
        rows.append({"model": "ours", "threads": "BLAS 1", **fit_seconds(lambda: ALS(PARAMS).fit(fresh(full)))})
    for threads, label in ((0, f"OpenMP {omp}, BLAS 1"), (1, "OpenMP 1, BLAS 1")):
        timing = fit_seconds(functools.partial(implicit_fit, full.csr(), threads))
        rows.append({"model": "implicit", "threads": label, **timing})
    for row in rows:
        row["recall@20"] = recall[row["model"]]
    return rows, ModelArtifact.build("als", PARAMS, fitted[-1], full), None


def synthetic(n_items: int, rng: np.random.Generator) -> ModelArtifact:
    """An ALS artifact of random 64-factor float32 vectors; USERS users of HISTORY items each."""
    factors = int(PARAMS["factors"])
    history = np.sort(rng.integers(0, n_items, (USERS, HISTORY)), axis=1)
    arrays = {
        "n_items": np.array(n_items),
        "n_users": np.array(USERS),
        "user_items/indptr": np.arange(0, USERS * HISTORY + 1, HISTORY, dtype=np.int64),
        "user_items/indices": history.reshape(-1).astype(np.int32),
        "user_items/data": np.ones(USERS * HISTORY, np.float32),
        "user_factors": rng.standard_normal((USERS, factors), dtype=np.float32) * 0.1,
        "item_factors": rng.standard_normal((n_items, factors), dtype=np.float32) * 0.1,
    }
    return ModelArtifact(
        recipe="als",
        params=PARAMS,
        item_ids=np.char.mod("item-%07d", np.arange(n_items)).astype(np.str_),
        user_ids=np.char.mod("user-%05d", np.arange(USERS)).astype(np.str_),
        model=ALS.from_arrays(arrays, PARAMS),
        popularity=np.zeros(n_items, np.float32),
        trending=np.zeros(n_items, np.float32),
    )


def bound_top(scores: F32, k: int = N) -> I64:
    """The plain-numpy lower bound's selection: ``argpartition`` of the best ``k``, then their order."""
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part])]


def ranking_rows(model: ALS, rng: np.random.Generator) -> list[Row]:
    """p50/p95 of ours and of the bare numpy bound for the three request shapes."""
    items, user = model.item_factors, 7
    vector = model.user_factors[user]
    history = rng.choice(model.n_items, HISTORY, replace=False)
    weights = np.ones(HISTORY, np.float32)
    candidates = rng.choice(model.n_items, CANDIDATES, replace=False)
    alpha = float(PARAMS["alpha"])
    gram = items.T.astype(np.float64) @ items.astype(np.float64) + PARAMS["regularization"] * np.eye(items.shape[1])

    def bound_fold_in() -> I64:
        picked = items[history].astype(np.float64)
        confidence = 1.0 + alpha * weights.astype(np.float64)
        x = np.linalg.solve(gram + (picked.T * (confidence - 1.0)) @ picked, picked.T @ confidence)
        return bound_top(items @ x.astype(np.float32))

    def bound_candidates() -> I64:
        return candidates[np.argsort(-(items[candidates] @ vector))[:N]]

    shapes: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        ("known user", lambda: model.recommend(user, N), lambda: bound_top(items @ vector)),
        (f"fold-in, {HISTORY} events", lambda: model.recommend(None, N, history=(history, weights)), bound_fold_in),
        (f"{CANDIDATES:,} candidates", lambda: model.recommend(user, N, candidates=candidates), bound_candidates),
    ]
    repeats = REPEATS if model.n_items <= 100_000 else max(20, REPEATS // 2)
    rows = []
    for name, ours, bound in shapes:
        (p50, p95), (b50, b95) = micros(ours, repeats), micros(bound, repeats)
        rows.append({"items": model.n_items, "path": name, "p50": p50, "p95": p95, "bound_p50": b50})
        rows[-1].update({"bound_p95": b95, "ratio_p50": p50 / b50, "runs": repeats})
    return rows


def load_row(name: str, artifact: ModelArtifact) -> Row:
    """to_bytes size, and from_bytes against np.load reading every array of the same bytes."""
    data = artifact.to_bytes()

    def bound() -> dict[str, Any]:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}

    def median_ms(fn: Callable[[], Any]) -> float:
        first = elapsed_ms(fn)  # a warm-up, and how many runs fit in about a second
        return statistics.median(elapsed_ms(fn) for _ in range(int(min(20, max(3, 1e3 / first)))))

    ours, plain = median_ms(lambda: ModelArtifact.from_bytes(data)), median_ms(bound)
    return {"artifact": name, "mb": len(data) / 1e6, "from_bytes_ms": ours, "np_load_ms": plain, "ratio": ours / plain}


def main() -> None:
    started = time.perf_counter()
    env: dict[str, Any] = {"numpy": np.__version__, **numpy_blas(), "cores": os.cpu_count()}
    env["load_average"] = round(os.getloadavg()[0], 2)
    blas = f"{env.get('blas', 'BLAS')} with {env.get('blas_threads', '?')} threads"
    print(f"numpy {env['numpy']}, {blas}; {env['cores']} cores", end="")
    print(f", load average {env['load_average']} at start")
    result: dict[str, Any] = {"env": env, "skipped": {}}

    fits, ml1m, skipped = ml1m_section()
    shape = ", ".join(f"{ml1m.metadata[k]:,} {k[2:]}" for k in ("n_events", "n_users", "n_items")) if ml1m else ""
    print(f"\nALS fit on {ML1M.name}/ratings_ge4.csv ({shape or 'absent'}; binary), median of 3 fits after a warm-up")
    knobs = "factors {factors}, {iterations} iterations, {cg_steps} CG steps, λ {regularization}".format(**PARAMS)
    print(f"{knobs}, confidence 1 + {PARAMS['alpha']}·w (implicit: alpha {PARAMS['alpha'] + 1})")
    if skipped:
        print(f"skipped: {skipped}")
        result["skipped"]["fit"] = skipped
    else:
        print("| model | threads | fit s | CPU s | runs | recall@20 |\n| --- | --- | ---: | ---: | ---: | ---: |")
        for row in fits:
            cells = f"{row['seconds']:.2f} | {row['cpu_seconds']:.2f} | {row['runs']} | {row['recall@20']:.4f}"
            print(f"| {row['model']} | {row['threads']} | {cells} |")
        ratios = {
            "all_threads": fits[0]["seconds"] / fits[2]["seconds"],
            "one_thread": fits[1]["seconds"] / fits[3]["seconds"],
        }
        print(f"ours / implicit: {ratios['all_threads']:.2f} (all threads), {ratios['one_thread']:.2f} (one thread)")
        result.update(fit=fits, fit_ratio=ratios)

    rng = np.random.default_rng(0)
    ranking: list[Row] = []
    loads: list[Row] = []
    for n_items in CATALOGS:
        artifact = synthetic(n_items, rng)
        assert isinstance(artifact.model, ALS)
        with blas_limit(RANKING_BLAS_THREADS):
            ranking += ranking_rows(artifact.model, rng)
        loads.append(load_row(f"synthetic {n_items:,} items", artifact))
        del artifact
    threads = (RANKING_BLAS_THREADS or env["blas_threads"]) if "blas_threads" in env else "default"
    print(f"\nSingle-request top-{N}, 64 float32 factors, {threads} BLAS thread(s); bound = matrix-vector product")
    print("+ argpartition + sort of the top 20 (fold-in: plus the same least-squares solve)")
    print("| items | request | p50 µs | p95 µs | bound p50 µs | bound p95 µs | ours / bound p50 | runs |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in ranking:
        cells = f"{row['p50']:,.0f} | {row['p95']:,.0f} | {row['bound_p50']:,.0f} | {row['bound_p95']:,.0f}"
        print(f"| {row['items']:,} | {row['path']} | {cells} | {row['ratio_p50']:.2f} | {row['runs']} |")

    if ml1m is not None:
        loads.append(load_row(f"ml-1m trained ({len(ml1m.item_ids):,} items)", ml1m))
    print("\nArtifact load; bound = np.load of the same bytes, every array read")
    print("| artifact | MB | from_bytes ms | np.load ms | ours / bound |\n| --- | ---: | ---: | ---: | ---: |")
    for row in loads:
        cells = f"{row['mb']:.1f} | {row['from_bytes_ms']:.1f} | {row['np_load_ms']:.1f} | {row['ratio']:.2f}"
        print(f"| {row['artifact']} | {cells} |")
    env["load_average_end"] = round(os.getloadavg()[0], 2)
    result.update(
        ranking_blas_threads=threads,
        ranking=ranking,
        artifacts=loads,
        total_seconds=round(time.perf_counter() - started, 1),
    )
    print(f"\ntotal {result['total_seconds']} s; load average {env['load_average_end']} at the end")
    print(json.dumps(result, default=float))


if __name__ == "__main__":
    main()
