"""Sparse features side by side without scipy's general block builder (installed by `orderdesk.servers.rasa`).

Before DIET classifies a message, Rasa 3.6 puts the sparse features of every featurizer side by side
(`Features._combine_sparse_features`), one featurizer at a time, with `scipy.sparse.hstack`: the general
block-matrix builder (`bmat`), which converts and checks every block each time. With five sparse featurizers
(regexes, lexical-syntactic, Brown clusters, two count-vector featurizers), for the sentence and for the
sequence, that was 7% of the Rasa server's time on a message (py-spy).

Two COO matrices side by side are their entries one after the other, the second's columns shifted: built here
directly, with the same entries in the same order, the same value type (both types' upcast) and the same index
type as `bmat` gives. tests/scale/test_sparse_concat.py compares both. `ORDERDESK_SPARSE_CONCAT=0` switches it
off (to measure the difference).
"""
from __future__ import annotations

import os
from typing import Any

ENV = "ORDERDESK_SPARSE_CONCAT"

_originals: dict[str, Any] = {}


def hstack_pair(left: Any, right: Any) -> Any:
    """`scipy.sparse.hstack([left, right])` (a COO matrix) for two sparse matrices with as many rows."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse._sputils import get_index_dtype, upcast

    a, b = left.tocoo(copy=False), right.tocoo(copy=False)
    shape = (a.shape[0], a.shape[1] + b.shape[1])
    index = get_index_dtype(maxval=max(shape))
    data = np.concatenate([a.data, b.data]).astype(upcast(a.dtype, b.dtype), copy=False)
    row = np.concatenate([a.row.astype(index, copy=False), b.row.astype(index, copy=False)])
    col = np.concatenate([a.col.astype(index, copy=False), b.col.astype(index) + index(a.shape[1])])
    return coo_matrix((data, (row, col)), shape=shape)


def install() -> bool:
    """Patch Rasa (idempotent). False when switched off (ORDERDESK_SPARSE_CONCAT=0)."""
    if os.environ.get(ENV) == "0":
        return False
    if _originals:
        return True
    from rasa.shared.nlu.training_data.features import Features

    original = _originals["combine"] = Features._combine_sparse_features

    def combine_sparse_features(self: Any, additional_features: Any) -> None:
        if self.features.shape[0] != additional_features.features.shape[0]:
            return original(self, additional_features)  # Rasa's own error
        self.features = hstack_pair(self.features, additional_features.features)
        self._cached_fingerprint = None

    Features._combine_sparse_features = combine_sparse_features
    return True


def uninstall() -> None:
    """Rasa's own combination again (tests compare both)."""
    if not _originals:
        return
    from rasa.shared.nlu.training_data.features import Features

    Features._combine_sparse_features = _originals.pop("combine")
