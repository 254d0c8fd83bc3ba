from __future__ import annotations

import numpy as np

from reco.models.interactions import CSR, Interactions


def sample() -> Interactions:
    return Interactions.from_events(
        user_ids=["u2", "u1", "u2", "u1", "u2"],
        item_ids=["b", "a", "b", "c", "a"],
        weights=[1.0, 2.0, 3.0, 0.5, 1.0],
        timestamps=[10, 20, 30, 40, 50],
        catalog_item_ids=["z", "a"],
    )


def test_ids_are_sorted_and_catalog_items_without_events_are_present() -> None:
    data = sample()
    assert data.user_ids.tolist() == ["u1", "u2"]
    assert data.item_ids.tolist() == ["a", "b", "c", "z"]
    assert data.user_ids.dtype.kind == "U"
    assert (data.n_users, data.n_items, data.n_events) == (2, 4, 5)
    assert data.users.dtype == np.int32 and data.items.dtype == np.int32
    assert data.weights.dtype == np.float32 and data.timestamps.dtype == np.float64
    assert data.items.tolist() == [1, 0, 1, 2, 0]


def test_csr_sums_duplicates() -> None:
    csr = sample().csr()
    assert csr.data.dtype == np.float32
    assert csr.shape == (2, 4)
    dense = csr.dense_rows(0, 2)
    np.testing.assert_array_equal(dense, [[2.0, 0.0, 0.5, 0.0], [1.0, 4.0, 0.0, 0.0]])
    assert csr.nnz == 4


def test_csr_t_is_the_transpose() -> None:
    data = sample()
    np.testing.assert_array_equal(data.csr_t().dense_rows(0, 4), data.csr().dense_rows(0, 2).T)


def test_unknown_ids_map_to_minus_one() -> None:
    data = sample()
    assert data.user_index(["u2", "nobody", "u1", "zz"]).tolist() == [1, -1, 0, -1]
    assert data.item_index(["z", "0", "c", "zzz"]).tolist() == [3, -1, 2, -1]
    assert data.item_index([]).tolist() == []
    assert data.user_index(["u1"]).dtype == np.int64


def test_subset_keeps_the_id_universes() -> None:
    data = sample()
    part = data.subset(data.timestamps > 25)
    assert part.n_events == 3
    assert part.item_ids.tolist() == data.item_ids.tolist()
    assert part.user_ids.tolist() == data.user_ids.tolist()
    np.testing.assert_array_equal(part.csr().dense_rows(0, 2), [[0.0, 0.0, 0.5, 0.0], [1.0, 3.0, 0.0, 0.0]])


def test_csr_helpers() -> None:
    csr = CSR.from_coo([0, 2, 2, 0], [1, 0, 1, 1], [1.0, 2.0, 3.0, 4.0], (3, 2))
    assert csr.indptr.tolist() == [0, 1, 1, 3]
    assert csr.row_ids().tolist() == [0, 2, 2]
    picked = csr.take_rows([2, 1, 0])
    np.testing.assert_array_equal(picked.dense_rows(0, 3), [[2.0, 3.0], [0.0, 0.0], [0.0, 5.0]])
    np.testing.assert_array_equal(csr.gram(), csr.dense_rows(0, 3).T @ csr.dense_rows(0, 3))
    np.testing.assert_array_equal(csr.gram(1, 2), (csr.dense_rows(0, 3).T @ csr.dense_rows(0, 3))[:, 1:2])
    assert csr.row_chunks(max_cells=2) == [(0, 1), (1, 2), (2, 3)]
