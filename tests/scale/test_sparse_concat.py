"""Sparse features put side by side (orderdesk.servers.sparse) are scipy's `hstack` of them, exactly: same
entries in the same order, same value and index types, same shape, a COO matrix."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from orderdesk.servers.sparse import hstack_pair


def _random(rows: int, cols: int, density: float, dtype, fmt: str, seed: int):
    m = sp.random(rows, cols, density=density, format="coo", dtype=np.float64, random_state=seed)
    m.data = (m.data * 10).astype(dtype)
    return m.asformat(fmt)


CASES = [  # (rows, left columns, right columns, left type, right type, formats, density)
    (1, 1, 1, np.float64, np.float64, ("coo", "coo"), 1.0),
    (7, 120, 35, np.float32, np.float64, ("coo", "coo"), 0.2),
    (7, 120, 35, np.int64, np.float32, ("csr", "coo"), 0.2),
    (12, 0, 40, np.float64, np.float64, ("coo", "csr"), 0.3),
    (12, 40, 3000, np.float32, np.float32, ("coo", "coo"), 0.0),
    (3, 70_000, 10, np.float64, np.float64, ("coo", "coo"), 0.0001),
    (30, 500, 500, np.float64, np.int32, ("csc", "coo"), 0.05),
]


@pytest.mark.parametrize("rows,left_cols,right_cols,left_type,right_type,formats,density", CASES)
def test_side_by_side_is_scipys_hstack(rows, left_cols, right_cols, left_type, right_type, formats, density):
    left = _random(rows, left_cols, density, left_type, formats[0], seed=1)
    right = _random(rows, right_cols, density, right_type, formats[1], seed=2)
    expected = sp.hstack([left, right])
    got = hstack_pair(left, right)
    assert got.format == expected.format == "coo"
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    assert got.row.dtype == expected.row.dtype and got.col.dtype == expected.col.dtype
    assert np.array_equal(got.data, expected.data)
    assert np.array_equal(got.row, expected.row) and np.array_equal(got.col, expected.col)
    assert (got != expected).nnz == 0


def test_rasa_features_combined_the_same_way_with_the_patch():
    from rasa.shared.nlu.training_data.features import Features

    from orderdesk.servers import sparse

    def combined():
        base = Features(_random(5, 30, 0.3, np.float32, "coo", 3), "sequence", "text", "a")
        for i, width in enumerate((4, 250, 17)):
            base.combine_with_features(Features(_random(5, width, 0.3, np.float32, "coo", 4 + i), "sequence", "text", "b"))
        return base.features

    sparse.uninstall()
    expected = combined()
    try:
        assert sparse.install()
        got = combined()
        with pytest.raises(ValueError, match="sequence dimensions do not match"):
            Features(_random(5, 3, 1.0, np.float32, "coo", 1), "sequence", "text", "a").combine_with_features(
                Features(_random(6, 3, 1.0, np.float32, "coo", 1), "sequence", "text", "b"))
    finally:
        sparse.uninstall()
    assert got.format == expected.format and got.dtype == expected.dtype and got.shape == expected.shape
    assert np.array_equal(got.data, expected.data)
    assert np.array_equal(got.row, expected.row) and np.array_equal(got.col, expected.col)
