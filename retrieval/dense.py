"""FAISS vector indexes: exact inner product for small corpora, HNSW or IVF above a threshold."""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def choose_kind(n_vectors: int, exact_max: int, large: str) -> str:
    """`flat` (exact) up to `exact_max` vectors, else the configured approximate kind."""
    return "flat" if n_vectors <= exact_max else large


def make_index(kind: str, dim: int, vectors: np.ndarray, params: dict[str, Any]):
    """Build a FAISS inner-product index of `kind` over `vectors` (normalized float32 rows).

    Returns (index, params actually used) so the manifest records the real choice.
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(vectors)
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
        used: dict[str, Any] = {}
    elif kind == "hnsw":
        m = int(params.get("hnsw_m", 32))
        index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(params.get("hnsw_ef_construction", 80))
        used = {"m": m, "ef_construction": index.hnsw.efConstruction,
                "ef_search": int(params.get("hnsw_ef_search", 64))}
    elif kind == "ivf":
        nlist = int(params.get("nlist") or max(16, min(65536, int(4 * math.sqrt(max(n, 1))))))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(n, size=min(n, nlist * 64), replace=False)] if n else vectors
        index.train(sample)
        used = {"nlist": nlist, "nprobe": int(params.get("ivf_nprobe", 32))}
    else:
        raise ValueError(f"unknown dense index kind {kind!r} (flat, hnsw, ivf)")
    if n:
        index.add(vectors)
    return index, used


def configure_search(index, kind: str, params: dict[str, Any]) -> None:
    """Apply query-time parameters (efSearch / nprobe) after loading."""
    if kind == "hnsw":
        index.hnsw.efSearch = int(params.get("ef_search", 64))
    elif kind == "ivf":
        index.nprobe = int(params.get("nprobe", 32))


def all_vectors(index) -> np.ndarray:
    """Every stored vector, in id order (used to extend or rebuild an index without re-embedding)."""
    import faiss

    if isinstance(index, faiss.IndexIVF):
        index.make_direct_map()
    return index.reconstruct_n(0, index.ntotal)


def search_dense(index, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
    """Top-k (row, cosine) for one normalized query vector; `allowed` restricts the rows."""
    import faiss

    k = max(1, min(k, index.ntotal))
    query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if allowed is not None:
        if len(allowed) == 0:
            return []
        selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
        if isinstance(index, faiss.IndexHNSW):
            search_params = faiss.SearchParametersHNSW(sel=selector, efSearch=index.hnsw.efSearch)
        elif isinstance(index, faiss.IndexIVF):
            search_params = faiss.SearchParametersIVF(sel=selector, nprobe=index.nprobe)
        else:
            search_params = faiss.SearchParameters(sel=selector)
        scores, ids = index.search(query, k, params=search_params)
    else:
        scores, ids = index.search(query, k)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
