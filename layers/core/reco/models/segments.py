"""User segments for cold start: trained users' properties and the items each interacted with.

Built at training time for the users that carry properties (users without any add nothing), and
shipped in the artifact under ``seg/``: ``col/…`` are their property columns (the item-column
format of :func:`build_item_columns`, so the same vectorised filters select users), and
``indptr`` / ``items`` a CSR of the distinct items each user interacted with. At request time the
users sharing an unknown user's property values are one mask, and the items they interacted with
one ``bincount`` over their rows (see ``reco.recommendations.cold_start``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from reco.models.columns import ItemColumns, build_item_columns
from reco.models.interactions import CSR, I64, Interactions, lookup

Arrays = dict[str, npt.NDArray[Any]]


def build_user_segments(interactions: Interactions, properties: Mapping[str, Mapping[str, Any]]) -> Arrays:
    """Segment arrays for the matrix rows (keys of ``properties``) that carry any property."""
    keys = sorted(key for key, values in properties.items() if values)
    rows = lookup(interactions.user_ids, keys) if keys else np.empty(0, dtype=np.int64)
    profiled = [key for key, row in zip(keys, rows.tolist(), strict=True) if row >= 0]
    rows = rows[rows >= 0]
    if not len(rows):
        return {}
    position = np.full(interactions.n_users, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    owners = position[interactions.users]
    kept = owners >= 0
    ones = np.ones(int(kept.sum()), dtype=np.float32)  # a user counts once per item, however often
    csr = CSR.from_coo(owners[kept], interactions.items[kept], ones, (len(rows), interactions.n_items))
    columns = build_item_columns(profiled, {key: properties[key] for key in profiled})
    return {"indptr": csr.indptr, "items": csr.indices, **{f"col/{k}": v for k, v in columns.items()}}


class UserSegments:
    """Read access to :func:`build_user_segments` arrays of a loaded artifact."""

    def __init__(self, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        self.arrays = arrays
        indptr = arrays.get("indptr")
        self.n_users = 0 if indptr is None else len(indptr) - 1
        self.columns = ItemColumns(
            {k.removeprefix("col/"): v for k, v in arrays.items() if k.startswith("col/")}, self.n_users
        )

    def item_counts(self, users: npt.NDArray[np.bool_], n_items: int) -> I64:
        """How many of the selected users interacted with each item."""
        indptr, items = self.arrays["indptr"], self.arrays["items"]
        owners = np.repeat(users, np.diff(indptr))
        return np.bincount(items[owners], minlength=n_items).astype(np.int64)
