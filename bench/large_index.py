"""The large-corpus index (`large_index = "ivfpq"`) on millions of vectors, against exact search.

The vectors are the default index's real abstract embeddings plus perturbed copies of them (Gaussian
noise, re-normalized; as bench/query_latency.py makes its 1M set), written as the float16 matrix the
ivfpq kind re-ranks from. For each --sizes N:

1. exact top-10 of every dev+test retrieval query (brute force over the matrix, in slices);
2. the IVF-PQ index built by the product's own code (retrieval/dense.py), timed, with the build's peak RSS;
3. in a fresh process, as a server opens it: resident memory after loading (anonymous = what the index
   needs; file-backed = page cache of the memory-mapped vectors, reclaimable), then per nprobe x re-rank
   depth recall@10 against exact and p50/p95 of query embedding + search.

Then a projection to 36M vectors from the measured sizes (memory linear in N; latency fitted as a power
of N). Target: recall@10 >= 0.90 at p50 < 50 ms with memory <= 8 GB.

    python bench/large_index.py [--sizes 1000000 5000000] [--work DIR]
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402
from bench.query_latency import pct, queries  # noqa: E402

SLICE = 65_536


def _rss() -> dict[str, float]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 2**20, 3)  # GiB
    return fields


def make_vectors(base: np.ndarray, size: int, noise: float, path: Path, seed: int = 0) -> np.ndarray:
    """base + perturbed copies, normalized, as a float16 .npy on disk (made once per size)."""
    if path.exists():
        return np.load(path, mmap_mode="r")
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".tmp.npy")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=(size, base.shape[1]))
    pos = 0
    while pos < size:
        n = min(len(base), size - pos)
        block = base[:n] if pos == 0 else base[:n] + rng.normal(0, noise, size=(n, base.shape[1])).astype(np.float32)
        block = block / np.linalg.norm(block, axis=1, keepdims=True)
        out[pos:pos + n] = block
        pos += n
    out.flush()
    del out
    tmp.rename(path)
    return np.load(path, mmap_mode="r")


def exact_top10(vectors: np.ndarray, qvecs: np.ndarray) -> np.ndarray:
    best_s = np.full((len(qvecs), 10), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(qvecs), 10), dtype=np.int64)
    for start in range(0, len(vectors), SLICE):
        scores = np.asarray(vectors[start:start + SLICE], dtype=np.float32) @ qvecs.T  # (slice, q)
        top = np.argpartition(-scores, min(10, len(scores) - 1), axis=0)[:10].T  # (q, 10)
        s = np.take_along_axis(scores.T, top, axis=1)
        all_s, all_i = np.concatenate([best_s, s], 1), np.concatenate([best_i, top + start], 1)
        order = np.argsort(-all_s, axis=1)[:, :10]
        best_s, best_i = np.take_along_axis(all_s, order, 1), np.take_along_axis(all_i, order, 1)
    return best_i


def build(vectors_path: Path, folder: Path, m: int) -> dict:
    """Child process: build the product's ivfpq index over the memory-mapped vectors."""
    import faiss

    from litmol.retrieval import dense

    vectors = np.load(vectors_path, mmap_mode="r")
    t = time.perf_counter()
    index, used = dense.make_index("ivfpq", vectors.shape[1], vectors, {"ivfpq_m": m})
    seconds = time.perf_counter() - t
    faiss.write_index(index, str(folder / "dense.faiss"))
    return {"build_s": round(seconds, 1), "params": used, "build_peak_rss_gib":
            round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
            "codes_gib": round((folder / "dense.faiss").stat().st_size / 2**30, 3)}


def query(vectors_path: Path, folder: Path, truth_path: Path, nprobes: list[int], depths: list[int]) -> dict:
    """Child process: open as the product does, then recall and latency per setting."""
    import faiss

    from litmol.retrieval import RetrievalSettings, dense
    from litmol.retrieval.embed import embedder_from_settings

    embedder = embedder_from_settings(RetrievalSettings())
    qs = queries()
    embedder.encode([qs[0]])
    before = _rss()
    index = dense.Reranked(faiss.read_index(str(folder / "dense.faiss")), np.load(vectors_path, mmap_mode="r"))
    loaded = _rss()
    truth = np.load(truth_path)
    rows = []
    for nprobe in nprobes:
        for depth in depths:
            dense.configure_search(index, "ivfpq", {"nprobe": nprobe, "rerank": depth})
            for q in qs[:10]:
                dense.search_dense(index, embedder.encode([q])[0], 10)  # warm-up
            times, found = [], 0
            for i, q in enumerate(qs):
                t = time.perf_counter()
                hits = dense.search_dense(index, embedder.encode([q])[0], 10)
                times.append(time.perf_counter() - t)
                found += len({h for h, _ in hits} & set(truth[i].tolist()))
            rows.append({"nprobe": nprobe, "rerank": depth, "recall@10": round(found / (10 * len(qs)), 4),
                         "p50_ms": pct(times, 50), "p95_ms": pct(times, 95)})
            print(rows[-1], file=sys.stderr, flush=True)
    after = _rss()
    return {"rows": rows, "queries": len(qs), "rss_before_gib": before, "rss_loaded_gib": loaded,
            "rss_after_queries_gib": after,
            "index_anon_gib": round(loaded["RssAnon"] - before["RssAnon"], 3)}


def _child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def project(results: list[dict], target: int = 36_000_000) -> dict:
    """Memory per vector from the largest run; latency p50 of the best setting meeting recall 0.90, as
    a power of N fitted through the measured sizes."""
    last = results[-1]
    per_vector = last["codes_gib"] * 2**30 / last["size"]
    out = {"size": target, "codes_ram_gib": round(per_vector * target / 2**30, 2),
           "float16_vectors_on_disk_gib": round(target * 384 * 2 / 2**30, 1)}
    picks = []
    for r in results:
        ok = [row for row in r["query"]["rows"] if row["recall@10"] >= 0.90]
        if ok:
            picks.append((r["size"], min(ok, key=lambda row: row["p50_ms"])))
    if len(picks) >= 2:
        (n1, a), (n2, b) = picks[0], picks[-1]
        exponent = math.log(b["p50_ms"] / a["p50_ms"]) / math.log(n2 / n1)
        out.update(latency_exponent=round(exponent, 3),
                   p50_ms=round(b["p50_ms"] * (target / n2) ** exponent, 1),
                   setting=f"nprobe {b['nprobe']}, rerank {b['rerank']} (nlist grows as sqrt(N))")
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("--build-child", "--query-child"):
        mode, *rest = sys.argv[1:]
        if mode == "--build-child":
            print(json.dumps(build(Path(rest[0]), Path(rest[1]), int(rest[2]))))
        else:
            print(json.dumps(query(Path(rest[0]), Path(rest[1]), Path(rest[2]),
                                   json.loads(rest[3]), json.loads(rest[4]))))
        return
    ap = arg_parser(__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    ap.add_argument("--noise", type=float, default=0.02, help="per-dimension noise of the perturbed copies")
    ap.add_argument("--m", type=int, default=96, help="4-bit PQ sub-quantizers (bytes per vector = m / 2)")
    ap.add_argument("--nprobe", type=int, nargs="+", default=[16, 32, 64])
    ap.add_argument("--rerank", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--work", type=Path, default=Path("/tmp/litmol-large-index"), help="vectors and indexes (GBs)")
    args = ap.parse_args()

    from litmol.retrieval import RetrievalSettings, open_index
    from litmol.retrieval import dense as dense_mod

    index = open_index(RetrievalSettings())
    base = dense_mod.all_vectors(index.vectors)
    qvecs = np.stack([index.embedder.encode([q])[0] for q in queries()])  # one at a time, as served
    index.close()
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for size in args.sizes:
        folder = args.work / f"n{size}"
        folder.mkdir(exist_ok=True)
        vectors_path = folder / "dense.f16.npy"
        t = time.perf_counter()
        vectors = make_vectors(base, size, args.noise, vectors_path)
        make_s = time.perf_counter() - t
        t = time.perf_counter()
        truth = exact_top10(vectors, qvecs)
        exact_ms = (time.perf_counter() - t) / len(qvecs) * 1000
        np.save(folder / "truth.npy", truth)
        built = _child("--build-child", str(vectors_path), str(folder), str(args.m))
        measured = _child("--query-child", str(vectors_path), str(folder), str(folder / "truth.npy"),
                          json.dumps(args.nprobe), json.dumps(args.rerank))
        result = {"size": size, "vectors_s": round(make_s, 1), "exact_ms_per_query": round(exact_ms, 1),
                  **built, "vectors_on_disk_gib": round(vectors_path.stat().st_size / 2**30, 2), "query": measured}
        results.append(result)
        rows = [{"N": f"{size:,}", **row, "RAM (anon) GiB": measured["index_anon_gib"],
                 "build s": built["build_s"]} for row in measured["rows"]]
        print(table(rows, ["N", "nprobe", "rerank", "recall@10", "p50_ms", "p95_ms", "RAM (anon) GiB", "build s"]),
              flush=True)
    projection = project(results)
    print("projection:", json.dumps(projection))
    print("saved", save("large_index", {"noise": args.noise, "m": args.m, "results": results,
                                        "projection_36m": projection}))


if __name__ == "__main__":
    main()
