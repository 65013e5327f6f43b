"""FAISS vector indexes: exact inner product for small corpora, HNSW, IVF or IVF-PQ above a threshold.

`ivfpq` is the kind for tens of millions of abstracts: an inverted file over 4-bit product-quantized
codes (FAISS fast-scan, `ivfpq_m` / 2 bytes a vector) finds `ivfpq_rerank` candidates in RAM, and their exact
scores come from the float16 vectors in `dense.f16.npy`, memory-mapped from disk, so the full vectors
never have to fit in memory (36M abstracts: ~1 GB of codes in RAM, 28 GB of vectors on disk).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


AUTO_IVFPQ_ABOVE = 2_000_000  # float32 vectors + an HNSW graph: ~3.3 GB at 2M, ~60 GB for all of PubMed


def choose_kind(n_vectors: int, exact_max: int, large: str) -> str:
    """`flat` (exact) up to `exact_max` vectors, else the configured approximate kind; `auto` is HNSW up
    to 2M vectors and the compressed, on-disk ivfpq above."""
    if n_vectors <= exact_max:
        return "flat"
    if large == "auto":
        return "hnsw" if n_vectors <= AUTO_IVFPQ_ABOVE else "ivfpq"
    return large


RERANK_FILE = "dense.f16.npy"
ADD_ROWS = 65_536  # rows converted and added at a time (a memory-mapped matrix is never loaded whole)


def default_nlist(n: int) -> int:
    return max(16, min(65536, int(4 * math.sqrt(max(n, 1)))))


def _train_sample(vectors: np.ndarray, size: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(len(vectors), size=min(len(vectors), size), replace=False))
    return np.ascontiguousarray(vectors[rows], dtype=np.float32)


def make_index(kind: str, dim: int, vectors: np.ndarray, params: dict[str, Any]):
    """Build a FAISS inner-product index of `kind` over `vectors` (normalized rows: float32, or any array
    such as a float16 memmap for ivfpq, which is read in slices).

    Returns (index, params actually used) so the manifest records the real choice. For ivfpq the index
    holds the codes only: `write_dense` also writes the vectors it re-ranks with.
    """
    import faiss

    n = len(vectors)
    if kind == "ivfpq":
        # sqrt(N) lists (not IVF's 4 sqrt(N)): k-means and list assignment dominate a CPU build, and
        # fast-scan codes are cheap to scan (5M: 2,236 lists; 36M: 6,000)
        nlist = int(params.get("nlist") or max(16, min(65536, int(math.sqrt(max(n, 1))))))
        m = int(params.get("ivfpq_m", 96))
        index = faiss.index_factory(dim, f"IVF{nlist},PQ{m}x4fs", faiss.METRIC_INNER_PRODUCT)
        if n:
            index.train(_train_sample(vectors, max(nlist * 40, 65_536)))
            for start in range(0, n, ADD_ROWS):
                index.add(np.ascontiguousarray(vectors[start:start + ADD_ROWS], dtype=np.float32))
        used = {"nlist": nlist, "pq_m": m, "nprobe": int(params.get("ivf_nprobe", 32)),
                "rerank": int(params.get("ivfpq_rerank", 400))}
        return index, used
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
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
        nlist = int(params.get("nlist") or default_nlist(n))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(n, size=min(n, nlist * 64), replace=False)] if n else vectors
        index.train(sample)
        used = {"nlist": nlist, "nprobe": int(params.get("ivf_nprobe", 32))}
    else:
        raise ValueError(f"unknown dense index kind {kind!r} (flat, hnsw, ivf, ivfpq)")
    if n:
        index.add(vectors)
    return index, used


class Reranked:
    """An IVF-PQ index whose candidates are re-scored exactly from memory-mapped float16 vectors.

    Quacks like the FAISS index for `search_dense` (ntotal, nprobe, search); `depth` candidates are
    taken per query (at least k) and their rows read in ascending order (sequential-ish disk reads)."""

    def __init__(self, index: Any, vectors: np.ndarray, depth: int = 400) -> None:
        if len(vectors) != index.ntotal:
            raise ValueError(f"{len(vectors)} re-ranking vectors for {index.ntotal} codes")
        self.index, self.vectors, self.depth = index, vectors, depth

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def nprobe(self) -> int:
        return int(self.index.nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self.index.nprobe = value

    def search(self, queries: np.ndarray, k: int, params: Any = None) -> tuple[np.ndarray, np.ndarray]:
        _, candidates = self.index.search(queries, max(k, self.depth), params=params)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        for i, (query, found) in enumerate(zip(queries, candidates, strict=True)):
            rows = np.unique(found[found >= 0])
            if not len(rows):
                continue
            exact = np.asarray(self.vectors[rows], dtype=np.float32) @ query
            top = np.argsort(-exact, kind="stable")[:k]
            scores[i, : len(top)], ids[i, : len(top)] = exact[top], rows[top]
        return scores, ids


def write_dense(folder: Any, index: Any, kind: str, vectors: np.ndarray | None = None) -> list[str]:
    """Write `index` as folder/dense.faiss (and, for ivfpq, `vectors` as float16 folder/dense.f16.npy
    unless it is already there); returns the file names written."""
    import faiss

    faiss.write_index(index.index if isinstance(index, Reranked) else index, str(folder / "dense.faiss"))
    names = ["dense.faiss"]
    if kind == "ivfpq":
        target = folder / RERANK_FILE
        if not target.exists():
            out = np.lib.format.open_memmap(target, mode="w+", dtype=np.float16, shape=(len(vectors), index.d))
            for start in range(0, len(vectors), ADD_ROWS):
                out[start:start + ADD_ROWS] = vectors[start:start + ADD_ROWS]
            out.flush()
            del out
        names.append(RERANK_FILE)
    return names


def configure_search(index, kind: str, params: dict[str, Any]) -> None:
    """Apply query-time parameters (efSearch / nprobe / re-ranking depth) after loading."""
    if kind == "hnsw":
        index.hnsw.efSearch = int(params.get("ef_search", 64))
    elif kind in ("ivf", "ivfpq"):
        index.nprobe = int(params.get("nprobe", 32))
    if isinstance(index, Reranked):
        index.depth = int(params.get("rerank", 400))


def all_vectors(index) -> np.ndarray:
    """Every stored vector, in id order (used to extend or rebuild an index without re-embedding)."""
    import faiss

    if isinstance(index, Reranked):  # the codes are lossy: the exact vectors are on disk
        return np.asarray(index.vectors, dtype=np.float32)
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
        elif isinstance(index, faiss.IndexIVF | Reranked):
            search_params = faiss.SearchParametersIVF(sel=selector, nprobe=index.nprobe)
        else:
            search_params = faiss.SearchParameters(sel=selector)
        scores, ids = index.search(query, k, params=search_params)
    else:
        scores, ids = index.search(query, k)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
