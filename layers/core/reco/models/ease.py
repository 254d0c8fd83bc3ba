"""EASE (Steck 2019): a closed-form item x item linear model with a zero diagonal.

B = argmin ‖X - XB‖² + λ‖B‖² subject to diag(B) = 0 has the closed form P = (XᵀX + λI)⁻¹,
B = -P / diag(P) (column-wise), diag(B) = 0. Training is one Gram matrix and one inversion, both
over the items that have interactions only: an item without any has a zero Gram row and column, so
P is 1/λ on its diagonal and 0 elsewhere and its row and column of B are 0; the fit leaves them 0.

- The Gram matrix: :meth:`CSR.pair_gram` counts the pairs of items each user has (O(Σ events²)),
  unless the dense chunked product of :meth:`CSR.gram` (O(users x items²) in BLAS) is estimated
  cheaper (:func:`gram_method`), as on MovieLens 100K. The dense product was where the time went:
  100 k users x 17,600² items is 3·10¹³ multiply-adds, 10 to 25 minutes on 2 cores (221 chunks of
  6.7 s measured on a busy machine), against ~5 s for the pairs of the same 5 M events.
- The inverse: in place, by Schur complements (:func:`spd_inverse`), all in matrix products. numpy
  has no Cholesky inverse (``potri``/``trtri``): ``np.linalg.inv`` (LU, 2 n³ flops) took 2.5 to 5
  times as long as LAPACK's ``spotrf`` + ``spotri`` (n³) at 10,000 items (2 and 1 BLAS threads),
  ``np.linalg.solve(A, I)`` and Cholesky + ``inv(L)`` + L⁻ᵀL⁻¹ longer still; this one took 0.8 to
  1.3 times LAPACK's time (``python -m bench.ease``: 10,000 items in 23 to 35 s, 20,000 in ~170 s,
  on 2 busy cores).
- float64 up to ``FLOAT64_MAX_ITEMS`` active items (under a second), float32 above: half the time
  and the memory; on MovieLens (λ 500 and 1) the float32 B is within 1.4e-4 of the float64 one
  (relative to its largest entry) and Recall@20 is the same to 4 digits.

Memory, with n catalog items (m of them with interactions), in bytes:

- the fit holds one m x m float32 matrix (the Gram matrix, inverted in place into P, then scaled
  into B) plus blocks of 1,024 rows and the pair counting's ~70 bytes per event: 4·m² (+ 4·n² for
  the full-catalog B when m < n);
- the training function then serializes the artifact in memory (``ModelArtifact.to_bytes``): B and
  its bytes are both alive, 8·n² (measured 8.5 with the artifact's other arrays): the training peak,
  beside what the events themselves take;
- every function that loads the model (ranking, recommendation, lists, chat) holds the downloaded
  bytes and the loaded arrays, 8·n² (measured 8.2 to 8.7), and while it loads a newer version the
  previous one stays cached until the new one is ready: 12·n².

Serving binds first: the functions that load models have 1,024 MB (``Globals`` in template.yaml),
the training function 3,008 MB (``TrainingMemorySize``). Allowing ``RUNTIME_MB`` (150) for the
runtime, the layer and the artifact's other arrays, 12·n² + 150 MB ≤ 1,024 MB gives n ≤ ~8,700;
``max_items`` defaults to 8,000 (883 MB). Training alone would allow ~19,000 items at 3,008 MB
(8·n² + 150 MB: 2,905 MB). A larger catalog needs both raised (:func:`memory_mb`): 10,000 items
need 913 MB to train and 1,295 MB to serve, 20,000 items 3,202 and 4,728 MB; Lambda's 10,240 MB
caps serving at ~29,600 items.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from reco.models.base import Arrays, History, Recommender
from reco.models.interactions import CSR, F32, I64, Interactions, mirror_upper

# Up to this many items with interactions the inversion runs in float64; above it in float32.
FLOAT64_MAX_ITEMS = 2_048
# spd_inverse: blocks up to this size are inverted by np.linalg.inv; updates go this many rows at once.
INVERSE_BASE = 512
INVERSE_BLOCK = 1_024
# Cost model choosing the Gram method: seconds per multiply-add of the dense product, per entry pair
# counted by CSR.pair_gram and per output cell (its zeroing, mirroring and accumulation).
DENSE_SECONDS_PER_MADD = 2e-11
PAIR_SECONDS = 3.5e-8
CELL_SECONDS = 3e-9
# Bytes per n² a catalog of n items needs at the peak of training and of serving (see the docstring).
TRAINING_BYTES_PER_CELL = 8
SERVING_BYTES_PER_CELL = 12
RUNTIME_MB = 150


def spd_inverse(a: npt.NDArray[np.floating[Any]]) -> None:
    """Inverts a symmetric positive definite matrix in place, by Schur complements.

    With A = [[A₁₁, A₁₂], [A₂₁, A₂₂]]: A₁₁ ← A₁₁⁻¹ (recursively), X = A₁₁⁻¹A₁₂, S = A₂₂ - A₂₁X (the
    Schur complement, symmetric positive definite), A₂₂ ← S⁻¹ (recursively), A₂₁ ← -S⁻¹Xᵀ, A₁₂ ← A₂₁ᵀ
    and A₁₁ ← A₁₁⁻¹ + XS⁻¹Xᵀ. Only the upper triangles of the two symmetric updates are computed
    (then mirrored), so the flops are n³, those of LAPACK's potrf + potri, in matrix products
    of INVERSE_BLOCK rows; the only memory beyond ``a`` is one block of products.
    """
    n = a.shape[0]
    if n <= INVERSE_BASE:
        a[...] = np.linalg.inv(a)
        mirror_upper(a)  # exactly symmetric, as the mirrored updates above it are
        return
    h = n // 2
    a11, a12, a21, a22 = a[:h, :h], a[:h, h:], a[h:, :h], a[h:, h:]
    spd_inverse(a11)
    for s in range(0, n - h, INVERSE_BLOCK):  # X = A₁₁⁻¹A₁₂, into A₁₂
        a12[:, s : s + INVERSE_BLOCK] = a11 @ a12[:, s : s + INVERSE_BLOCK]
    for s in range(0, n - h, INVERSE_BLOCK):  # S = A₂₂ - A₂₁X, upper triangle
        a22[s : s + INVERSE_BLOCK, s:] -= a21[s : s + INVERSE_BLOCK] @ a12[:, s:]
    mirror_upper(a22)
    spd_inverse(a22)
    for s in range(0, n - h, INVERSE_BLOCK):  # S⁻¹Xᵀ, into A₂₁
        a21[s : s + INVERSE_BLOCK] = a22[s : s + INVERSE_BLOCK] @ a12.T
    for s in range(0, h, INVERSE_BLOCK):  # A₁₁⁻¹ + X(S⁻¹Xᵀ), upper triangle
        a11[s : s + INVERSE_BLOCK, s:] += a12[s : s + INVERSE_BLOCK] @ a21[:, s:]
    mirror_upper(a11)
    np.negative(a21, out=a21)
    a12[...] = a21.T


def gram_method(x: CSR) -> str:
    """ "dense" (:meth:`CSR.gram`) or "pairs" (:meth:`CSR.pair_gram`): whichever the cost model says is cheaper."""
    n_rows, n = x.shape
    dense = DENSE_SECONDS_PER_MADD * n_rows * n * n
    pairs = PAIR_SECONDS * x.pair_count() + CELL_SECONDS * n * n
    return "dense" if dense < pairs else "pairs"


def gram(x: CSR) -> F32:
    """XᵀX, float32, by :func:`gram_method`."""
    return x.gram() if gram_method(x) == "dense" else x.pair_gram()


def memory_mb(n_items: int, bytes_per_cell: int) -> int:
    """MB (MiB, Lambda's MemorySize unit) a function needs for an n_items catalog, runtime included."""
    return int(np.ceil(bytes_per_cell * n_items**2 / 2**20)) + RUNTIME_MB


class EASE(Recommender):
    """score = history · B; ``l2`` is the λ of the closed form (larger = smoother, more popular)."""

    recipe: ClassVar[str] = "ease"
    DEFAULT_PARAMS: ClassVar[dict[str, Any]] = {"l2": 500.0, "binary": True, "max_items": 8_000}
    PARAM_RANGES: ClassVar[dict[str, tuple[float, float]]] = {"l2": (1e-6, 1e9), "max_items": (1, 100_000)}
    SEARCH_SPACE: ClassVar[dict[str, tuple[Any, ...]]] = {"l2": (50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0)}

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(params)
        self.weights: F32 = np.zeros((0, 0), dtype=np.float32)

    def _fit(self, interactions: Interactions) -> None:
        n, limit = self.n_items, int(self.params["max_items"])
        if n > limit:
            raise ValueError(
                f"ease needs a dense {n} x {n} item matrix; catalogs above max_items={limit} items are refused: "
                f"{n} items need about {memory_mb(n, TRAINING_BYTES_PER_CELL):,} MB in the training function "
                f"and {memory_mb(n, SERVING_BYTES_PER_CELL):,} MB in every function serving the model "
                f"({TRAINING_BYTES_PER_CELL} and {SERVING_BYTES_PER_CELL} bytes x items² + {RUNTIME_MB} MB; "
                "the serving functions have 1,024 MB, TrainingMemorySize defaults to 3,008, Lambda allows 10,240). "
                "Use als or item_knn, or raise max_items together with those MemorySizes"
            )
        x = interactions.csr().binarized() if self.params["binary"] else interactions.csr()
        active = np.zeros(n, dtype=bool)
        active[x.indices] = True
        m = int(active.sum())
        if m < n:  # the same matrix over the items with interactions only
            compact = (np.cumsum(active) - 1).astype(np.int32)
            x = CSR(x.indptr, compact[x.indices], x.data, (x.shape[0], m))
        matrix: npt.NDArray[np.floating[Any]] = gram(x)
        if m <= FLOAT64_MAX_ITEMS:
            matrix = matrix.astype(np.float64)
        matrix[np.diag_indices(m)] += float(self.params["l2"])
        spd_inverse(matrix)  # P
        diagonal = np.diag(matrix).copy()
        if not (np.all(np.isfinite(diagonal)) and np.all(diagonal > 0)):
            raise ValueError(
                f"ease could not invert XᵀX + λI in {matrix.dtype} with l2={self.params['l2']}: "
                "it is too close to singular; raise l2"
            )
        matrix /= -diagonal[None, :]  # B = -P / diag(P), column-wise
        matrix[np.diag_indices(m)] = 0.0
        if m == n:
            self.weights = matrix.astype(np.float32, copy=False)
        else:
            self.weights = np.zeros((n, n), dtype=np.float32)
            rows = np.flatnonzero(active)
            self.weights[rows[:, None], rows[None, :]] = matrix

    def _history_weights(self, weights: F32) -> F32:
        return np.ones_like(weights) if self.params["binary"] else weights

    def _score_users(self, user_rows: I64) -> F32:
        assert self.user_items is not None
        sub = self.user_items.take_rows(user_rows)
        if self.params["binary"]:
            sub = sub.binarized()
        return sub.dense_rows(0, len(user_rows)) @ self.weights

    def _score_history(self, items: I64, weights: F32) -> F32:
        return self._history_weights(weights) @ self.weights[items]

    def candidate_scores(self, user_row: int | None, history: History | None, rows: npt.ArrayLike) -> F32:
        items, weights = self.clean_history(*self.combined_history(user_row, history))
        columns = np.asarray(rows, dtype=np.int64).reshape(-1)
        return np.asarray(self._history_weights(weights) @ self.weights[np.ix_(items, columns)], dtype=np.float32)

    def _contributions(self, items: I64, weights: F32, rows: I64) -> F32:
        """w'_i · B[item_i, row_j]: the terms of ``candidate_scores`` (w' = 1 when ``binary``), summing to it."""
        return np.asarray(self._history_weights(weights)[:, None] * self.weights[np.ix_(items, rows)], dtype=np.float32)

    def _to_arrays(self) -> Arrays:
        return {"weights": self.weights}

    def _from_arrays(self, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        self.weights = np.asarray(arrays["weights"], dtype=np.float32)
