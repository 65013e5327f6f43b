"""Query latency on the default index, and a 1,000,000-vector index against exact search.

1. p50/p95 of `PassageIndex.search` (query embedding included) for every dev+test query in
   each mode, on the built default index.
2. A 1M x 384 set made from the default index's real vectors plus perturbed copies of them
   (Gaussian noise, re-normalized), indexed with the large-index types (HNSW and IVF);
   recall@10 of each against exact inner-product search, and p50/p95 of query embedding +
   search, over the real dev+test queries.

    python bench/query_latency.py [--index default] [--size 1000000]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402
from litmol.retrieval import RetrievalSettings, open_index  # noqa: E402
from litmol.retrieval import dense as dense_mod  # noqa: E402

EVAL = Path(__file__).resolve().parents[1] / "corpora" / "eval"


def queries() -> list[str]:
    out = []
    for split in ("dev", "test"):
        out += [json.loads(x)["query"] for x in (EVAL / f"retrieval_{split}.jsonl").read_text().splitlines()]
    return out


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values) * 1000, q)), 2)


def corpus_latency(index, qs: list[str]) -> list[dict]:
    rows = []
    for mode in ("hybrid", "dense", "lexical"):
        for q in qs[:10]:
            index.search(q, k=10, mode=mode)  # warm-up
        times = []
        for q in qs:
            t = time.perf_counter()
            index.search(q, k=10, mode=mode)
            times.append(time.perf_counter() - t)
        rows.append({"index": f"default ({index.manifest['count']:,}, flat)", "mode": mode, "queries": len(qs),
                     "p50_ms": pct(times, 50), "p95_ms": pct(times, 95)})
    return rows


def synthetic(base: np.ndarray, size: int, noise: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((size, base.shape[1]), dtype=np.float32)
    out[: len(base)] = base
    pos = len(base)
    while pos < size:
        n = min(len(base), size - pos)
        block = base[:n] + rng.normal(0, noise, size=(n, base.shape[1])).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[pos : pos + n] = block
        pos += n
    return out


def large_index(index, qs: list[str], size: int, noise: float, ef_values: list[int],
                nprobe_values: list[int]) -> list[dict]:
    import faiss

    base = dense_mod.all_vectors(index.vectors)
    vectors = synthetic(base, size, noise)
    # one query at a time, as served: int8 activation scales are per batch, so a batch-encoded
    # query differs slightly from the same query encoded alone (deterministic when alone)
    qvecs = np.stack([index.embedder.encode([q])[0] for q in qs])
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    t = time.perf_counter()
    _, truth = exact.search(qvecs, 10)
    exact_ms = (time.perf_counter() - t) / len(qs) * 1000
    rows = [{"index": f"{size:,} exact (flat)", "build_s": 0.0, "recall@10": 1.0,
             "p50_ms": round(exact_ms, 2), "p95_ms": "", "params": ""}]
    settings = index.settings
    configs = [("hnsw", {"hnsw_m": settings.hnsw_m, "hnsw_ef_construction": settings.hnsw_ef_construction}, "ef_search",
                ef_values), ("ivf", {"ivf_nprobe": settings.ivf_nprobe}, "nprobe", nprobe_values)]
    for kind, params, knob, values in configs:
        t = time.perf_counter()
        idx, used = dense_mod.make_index(kind, vectors.shape[1], vectors, params)
        build_s = time.perf_counter() - t
        for value in values:
            dense_mod.configure_search(idx, kind, used | {knob: value})
            times, found = [], 0
            for i, q in enumerate(qs):
                t = time.perf_counter()
                vec = index.embedder.encode([q])[0]
                hits = dense_mod.search_dense(idx, vec, 10)
                times.append(time.perf_counter() - t)
                found += len({h for h, _ in hits} & set(truth[i].tolist()))
            rows.append({"index": f"{size:,} {kind}", "build_s": round(build_s, 1),
                         "recall@10": round(found / (10 * len(qs)), 4), "p50_ms": pct(times, 50),
                         "p95_ms": pct(times, 95), "params": json.dumps(used | {knob: value})})
        print(table(rows, ["index", "build_s", "recall@10", "p50_ms", "p95_ms", "params"]), flush=True)
        del idx
    return rows


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--index", default="default")
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--noise", type=float, default=0.02, help="per-dimension noise of the perturbed copies")
    ap.add_argument("--ef-search", type=int, nargs="+", default=[32, 64, 128, 256], help="HNSW efSearch values")
    ap.add_argument("--nprobe", type=int, nargs="+", default=[16, 32, 64], help="IVF nprobe values")
    args = ap.parse_args()
    index = open_index(RetrievalSettings(index_name=args.index))
    qs = queries()
    corpus_rows = corpus_latency(index, qs)
    print(table(corpus_rows, ["index", "mode", "queries", "p50_ms", "p95_ms"]), flush=True)
    large_rows = large_index(index, qs, args.size, args.noise, args.ef_search, args.nprobe)
    print("saved", save("query_latency", {"default_corpus": corpus_rows, "large": large_rows,
                                          "noise": args.noise, "size": args.size}))


if __name__ == "__main__":
    main()
