"""EASE fit at 10k and 20k items against scipy's float32 Cholesky inverse of the same Gram matrix.

Synthetic events, seeded: ``USERS`` users (100k) with Poisson(50) events each over a catalog whose item
popularity follows a power law (Zipf exponent 1 over a shuffled catalog: ~5 M events, 0.25 % density
at 20k items); every item has events. Both sides start from the same event arrays and do the same
steps, binary:

- ours: ``EASE(l2=500, max_items=n).fit`` — the CSR, the Gram matrix (:meth:`CSR.pair_gram`: pairs of
  items per user), the in-place Schur-complement inverse in float32, B = -P / diag(P);
- the reference: ``scipy.sparse`` CSR (duplicates summed, binarized), XᵀX as a sparse product made
  dense in float32, + λI, LAPACK ``spotrf`` + ``spotri`` (``scipy.linalg.lapack``), the triangle
  mirrored, B = -P / diag(P). Its Gram and inverse phases are timed apart, and ``ref inverse`` is
  what our inverse phase (fit minus our Gram matrix alone) compares with.

Peak memory is tracemalloc's (numpy and scipy arrays are traced) over each side, above the event
arrays. At the first catalog, ``np.linalg.inv`` of the same float32 matrix (LU, numpy's only general
inverse) is timed too. Then the artifact's memory, checking the bytes x n² that ``reco.models.ease``
budgets: training holds B and ``to_bytes``' output; serving holds the downloaded bytes and the loaded
arrays, plus the previous version's B while a new one loads.

``python -m bench.ease`` (part of ``make bench``); BENCH_EASE_ITEMS (comma-separated catalog sizes),
BENCH_EASE_USERS and BENCH_BLAS_THREADS (default: the BLAS's own count) change the set-up. Skipped
with a reason when scipy is missing (``pip install -r requirements-bench.txt``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from reco.models import ease
from reco.models.artifact import ModelArtifact
from reco.models.ease import EASE
from reco.models.interactions import F32, Interactions, mirror_upper

try:  # imported before any BLAS call, so that threadpoolctl's limits reach scipy's OpenBLAS too
    import scipy
    import scipy.sparse
    from scipy.linalg import lapack
except ImportError as error:  # pragma: no cover - depends on the environment
    SCIPY_MISSING: str | None = f"scipy cannot be imported ({error}): pip install -r requirements-bench.txt"
else:
    SCIPY_MISSING = None

CATALOGS = tuple(int(n) for n in os.environ.get("BENCH_EASE_ITEMS", "10000,20000").split(","))
USERS = int(os.environ.get("BENCH_EASE_USERS", "100000"))
EVENTS_PER_USER = 50
BLAS_THREADS = int(os.environ.get("BENCH_BLAS_THREADS", "0")) or None
L2 = 500.0
MIB = 2**20
Row = dict[str, Any]


def blas_info() -> dict[str, Any]:
    """numpy's BLAS, its thread count, and scipy's (threadpoolctl comes with requirements-bench.txt)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {}
    info: dict[str, Any] = {}
    for pool in threadpool_info():
        if pool["user_api"] == "blas":
            owner = "numpy" if "numpy" in pool["filepath"] else "scipy"
            info[f"{owner}_blas"] = f"{pool['internal_api']} {pool['version']}, {pool['num_threads']} threads"
            info.setdefault("blas_threads", pool["num_threads"])
    return info


def blas_limit(threads: int | None) -> contextlib.AbstractContextManager[Any]:
    if threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    limiter: contextlib.AbstractContextManager[Any] = threadpool_limits(threads, "blas")
    return limiter


def events(n_items: int, rng: np.random.Generator) -> Interactions:
    """USERS users, Poisson(EVENTS_PER_USER) events each, items by a power-law popularity."""
    lengths = np.maximum(1, rng.poisson(EVENTS_PER_USER, USERS))
    popularity = 1.0 / np.arange(1, n_items + 1)
    popularity = rng.permutation(popularity / popularity.sum())
    items = rng.choice(n_items, int(lengths.sum()), p=popularity).astype(np.int32)
    users = np.repeat(np.arange(USERS, dtype=np.int32), lengths)
    return Interactions(
        np.char.mod("u%07d", np.arange(USERS)).astype(np.str_),
        np.char.mod("i%07d", np.arange(n_items)).astype(np.str_),
        users,
        items,
        np.ones(len(items), np.float32),
        np.zeros(len(items), np.float64),
    )


def fresh(data: Interactions) -> Interactions:
    """The same events without cached CSRs, so that the timed fit builds its own."""
    return Interactions(data.user_ids, data.item_ids, data.users, data.items, data.weights, data.timestamps)


def measured(fn: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """fn's result, wall and CPU seconds (all threads) and tracemalloc's peak in MiB, of one call."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    start, start_cpu = time.perf_counter(), time.process_time()
    try:
        result = fn()
        seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, {"seconds": seconds, "cpu_seconds": cpu, "peak_mib": peak / MIB}


def reference_gram(data: Interactions) -> F32:
    """scipy's binary XᵀX, dense float32."""
    x = scipy.sparse.csr_matrix(
        (np.ones(data.n_events, np.float32), (data.users, data.items)), shape=(data.n_users, data.n_items)
    )
    x.sum_duplicates()
    x.data[:] = 1.0
    return np.asarray((x.T @ x).toarray(), dtype=np.float32)


def numpy_inverse(g: F32) -> F32:
    """np.linalg.inv (LU) of G + λI, on a copy."""
    a = g.copy()
    a[np.diag_indices(len(a))] += L2
    return np.linalg.inv(a)


def reference_weights(g: F32) -> F32:
    """B from G by spotrf + spotri, in G's memory (passed as its F-ordered transpose: no copy)."""
    g[np.diag_indices(len(g))] += L2
    factor, info = lapack.spotrf(g.T, lower=1, overwrite_a=1, clean=0)
    assert info == 0, f"spotrf info {info}"
    inverse, info = lapack.spotri(factor, lower=1, overwrite_c=1)
    assert info == 0, f"spotri info {info}"
    p = np.asarray(inverse).T  # the C-ordered view: spotri's lower triangle is its upper one
    mirror_upper(p)
    diagonal = np.diag(p).copy()
    p /= -diagonal[None, :]
    p[np.diag_indices(len(p))] = 0.0
    return p


def catalog_row(n_items: int, rng: np.random.Generator, with_numpy_inv: bool) -> Row:
    data = events(n_items, rng)
    params = {**EASE.DEFAULT_PARAMS, "l2": L2, "max_items": n_items}
    row: Row = {"items": n_items, "users": data.n_users, "events": data.n_events}
    x = data.csr().binarized()
    row["pairs"] = x.pair_count()
    row["gram_method"] = ease.gram_method(x)
    del x
    _, ours_gram = measured(lambda: ease.gram(fresh(data).csr().binarized()))
    model, ours = measured(lambda: EASE(params).fit(fresh(data)))
    g, ref_gram = measured(functools.partial(reference_gram, data))
    if with_numpy_inv:
        _, row["numpy_inv"] = measured(functools.partial(numpy_inverse, g))
    reference, ref_inverse = measured(functools.partial(reference_weights, g))  # in g's memory
    row.update(ours=ours, ours_gram=ours_gram, ref_gram=ref_gram, ref_inverse=ref_inverse)
    row["ref_seconds"] = ref_gram["seconds"] + ref_inverse["seconds"]
    row["ref_peak_mib"] = max(ref_gram["peak_mib"], ref_inverse["peak_mib"] + 4 * n_items**2 / MIB)
    row["ratio"] = ours["seconds"] / row["ref_seconds"]
    row["inverse_ratio"] = (ours["seconds"] - ours_gram["seconds"]) / ref_inverse["seconds"]
    row["max_abs_diff"] = float(np.abs(model.weights - reference).max() / np.abs(reference).max())
    del reference
    row["artifact"] = artifact_memory(model, data, params)
    return row


def artifact_memory(model: EASE, data: Interactions, params: dict[str, Any]) -> dict[str, float]:
    """Bytes per n² at the training peak (B + to_bytes) and the serving peaks (bytes + loaded arrays)."""
    artifact = ModelArtifact.build("ease", params, model, data)
    cells = float(data.n_items) ** 2
    blob, write = measured(artifact.to_bytes)
    _, read = measured(lambda: ModelArtifact.from_bytes(blob))
    matrix = model.weights.nbytes
    return {
        "mib": len(blob) / MIB,
        "training": (matrix + write["peak_mib"] * MIB) / cells,
        "serving": (len(blob) + read["peak_mib"] * MIB) / cells,
        "serving_refresh": (len(blob) + read["peak_mib"] * MIB + matrix) / cells,
        "to_bytes_seconds": write["seconds"],
        "from_bytes_seconds": read["seconds"],
    }


def main() -> None:
    started = time.perf_counter()
    env: dict[str, Any] = {"numpy": np.__version__, "cores": os.cpu_count(), **blas_info()}
    env["scipy"] = getattr(scipy, "__version__", None) if SCIPY_MISSING is None else None
    env["load_average"] = round(os.getloadavg()[0], 2)
    threads = BLAS_THREADS or env.get("blas_threads", "?")
    limited = f" (BENCH_BLAS_THREADS; the BLAS's own: {env.get('blas_threads', '?')})" if BLAS_THREADS else ""
    print(f"numpy {env['numpy']}, scipy {env['scipy']}; {env['cores']} cores; BLAS threads {threads}{limited}", end="")
    print(f", load average {env['load_average']} at start")
    for key in ("numpy_blas", "scipy_blas"):
        if key in env:
            print(f"{key.replace('_', ' ')}: {env[key]}")
    result: dict[str, Any] = {"env": env, "blas_threads": threads}
    if SCIPY_MISSING is not None:
        print(f"skipped: {SCIPY_MISSING}")
        print(json.dumps({**result, "skipped": SCIPY_MISSING}))
        return

    rng = np.random.default_rng(20261207)
    rows: list[Row] = []
    with blas_limit(BLAS_THREADS):
        for position, n_items in enumerate(CATALOGS):
            rows.append(catalog_row(n_items, rng, with_numpy_inv=position == 0))
    first = rows[0]
    print(
        f"\nEASE fit, binary, λ {L2:g}, float32 above {ease.FLOAT64_MAX_ITEMS:,} items: {USERS:,} users, "
        f"~{EVENTS_PER_USER} events each, power-law items; one fit per side, wall seconds (CPU seconds, all threads)"
    )
    print("reference = scipy.sparse XᵀX + LAPACK spotrf + spotri of the same matrix; peak = tracemalloc;")
    print("B error = max |B - B_ref| / max |B_ref|")
    print(
        "| items | events | our Gram s | our fit s | ref Gram s | ref inverse s | ref s | fit / ref | "
        "inverse / ref inverse | our peak MiB | ref peak MiB | B error |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        ours = row["ours"]
        cells = [
            f"{row['items']:,}",
            f"{row['events']:,}",
            f"{row['ours_gram']['seconds']:.1f}",
            f"{ours['seconds']:.1f} ({ours['cpu_seconds']:.0f})",
            f"{row['ref_gram']['seconds']:.1f}",
            f"{row['ref_inverse']['seconds']:.1f} ({row['ref_inverse']['cpu_seconds']:.0f})",
            f"{row['ref_seconds']:.1f}",
            f"{row['ratio']:.2f}",
            f"{row['inverse_ratio']:.2f}",
            f"{ours['peak_mib']:,.0f}",
            f"{row['ref_peak_mib']:,.0f}",
            f"{row['max_abs_diff']:.1e}",
        ]
        print("| " + " | ".join(cells) + " |")
    numpy_inv = first["numpy_inv"]
    print(
        f"np.linalg.inv (LU, float32) of the same {first['items']:,}-item matrix: {numpy_inv['seconds']:.1f} s "
        f"({numpy_inv['cpu_seconds']:.0f} CPU s), {numpy_inv['seconds'] / first['ref_inverse']['seconds']:.2f}x "
        "the reference's inverse"
    )
    print("\nArtifact memory, bytes x items² (reco.models.ease budgets training 8, serving 12 with a refresh)")
    print("| items | artifact MiB | training peak | serving load | serving refresh | to_bytes s | from_bytes s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        a = row["artifact"]
        cells = [f"{row['items']:,}", f"{a['mib']:,.0f}", f"{a['training']:.1f}", f"{a['serving']:.1f}"]
        cells += [f"{a['serving_refresh']:.1f}", f"{a['to_bytes_seconds']:.1f}", f"{a['from_bytes_seconds']:.1f}"]
        print("| " + " | ".join(cells) + " |")
    env["load_average_end"] = round(os.getloadavg()[0], 2)
    result.update(rows=rows, total_seconds=round(time.perf_counter() - started, 1))
    print(f"\ntotal {result['total_seconds']} s; load average {env['load_average_end']} at the end")
    print(json.dumps(result, default=float))


if __name__ == "__main__":
    main()
