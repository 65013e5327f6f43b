"""The dense stage of an index build in process vs on a local Ray cluster of 1 and 2 embedding workers.

Writes the default corpus's abstracts (real PubMed records; the first --articles of them when given) as JSONL, builds the
lexical stage once in a temporary LITMOL_HOME, then embeds it again and again — in process, `--ray` with 1
worker, `--ray` with 2 workers — interleaved over --rounds rounds (the work folder and the dense part are
dropped before each run, so every run embeds everything). Reports abstracts/s per run, the median of each
variant, the overhead of Ray at one worker against the in-process build in the same round (target ≤ 15 %),
and whether every variant's index holds the same PMIDs and vectors.

    python bench/ray_build.py [--articles N] [--rounds 1]

The fixed cost of a Ray job (starting the local cluster, its actors and the embedder in each) is ~20 s
here, so the overhead target is a whole-corpus figure: on a 3,000-abstract slice it dominates.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402


def _vectors(settings) -> tuple[list[str], np.ndarray]:
    import faiss

    from litmol.retrieval.index import read_manifest
    from litmol.retrieval.store import MetadataStore

    build, _ = read_manifest(settings.index_root)
    store = MetadataStore(build / "meta.sqlite", readonly=True)
    pmids = [r[0] for r in store.conn.execute("SELECT pmid FROM docs ORDER BY row")]
    store.close()
    index = faiss.read_index(str(build / "dense.faiss"))
    return pmids, index.reconstruct_n(0, index.ntotal)


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--articles", type=int, default=0, help="only the first N abstracts (default: all ~33k)")
    ap.add_argument("--rounds", type=int, default=1, help="interleaved rounds of the three variants (default 1)")
    args = ap.parse_args()

    from litmol.retrieval import (
        RetrievalSettings,
        build_index,
        collect_records,
        default_corpus_paths,
    )
    from litmol.retrieval.build import build_dense, build_lock

    home = Path(tempfile.mkdtemp(prefix="litmol-raybench-"))
    models = RetrievalSettings().home / "models"
    if models.exists():
        (home / "models").symlink_to(models)  # the ONNX export is made once
    records, _ = collect_records(default_corpus_paths(), workers=1)
    records = [r for r in records if r.abstract][: args.articles or None]
    corpus = home / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"pmid": r.pmid, "title": r.title, "abstract": r.abstract, "year": r.year})
                              + "\n" for r in records))
    settings = RetrievalSettings(home=home)
    build_index([str(corpus)], settings, stage="lexical", progress=False)
    backup = home / "lexical-build"  # publishing a build deletes the older ones: keep a copy to start from
    shutil.copytree((settings.index_root / "current").resolve(), backup)
    variants = [("in process", None, 0), ("ray, 1 worker", "local", 1), ("ray, 2 workers", "local", 2)]
    runs, reference, same = [], None, True
    for round_ in range(args.rounds):
        for name, ray, workers in variants:
            shutil.rmtree(settings.index_root / "work", ignore_errors=True)
            with build_lock(settings.index_root):  # back to the lexical build: the dense part is made again
                builds = settings.index_root / "builds"
                shutil.rmtree(builds, ignore_errors=True)
                shutil.copytree(backup, builds / backup.name)
                current = settings.index_root / "current"
                current.unlink()
                current.symlink_to(Path("builds") / backup.name)
            t = time.perf_counter()
            manifest = build_dense(settings, progress=False, ray=ray, ray_workers=workers)
            seconds = time.perf_counter() - t
            pmids, vectors = _vectors(settings)
            if reference is None:
                reference = (pmids, vectors)
            else:
                same = same and pmids == reference[0] and bool(np.allclose(vectors, reference[1], atol=1e-4))
            runs.append({"round": round_, "variant": name, "seconds": round(seconds, 1),
                         "abstracts_per_s": round(len(pmids) / seconds, 1),
                         "ray_wall_s": (manifest.get("ray") or {}).get("wall_s")})
            print(f"round {round_} {name}: {seconds:.1f} s, {len(pmids) / seconds:.1f} abstracts/s", flush=True)
    medians = {name: statistics.median(r["abstracts_per_s"] for r in runs if r["variant"] == name)
               for name, _, _ in variants}
    overheads = []
    for round_ in range(args.rounds):
        by = {r["variant"]: r["seconds"] for r in runs if r["round"] == round_}
        overheads.append(by["ray, 1 worker"] / by["in process"] - 1)
    result = {"articles": len(records), "rounds": args.rounds, "runs": runs, "median_abstracts_per_s": medians,
              "ray_1_worker_overhead": round(statistics.median(overheads), 3),
              "ray_2_vs_1_worker": round(medians["ray, 2 workers"] / medians["ray, 1 worker"], 2),
              "same_pmids_and_vectors": same}
    print(table([{"variant": k, "abstracts/s (median)": v} for k, v in medians.items()],
                ["variant", "abstracts/s (median)"]))
    print(f"Ray overhead at 1 worker (same-round median): {100 * result['ray_1_worker_overhead']:+.1f} % "
          f"(target <= 15 %); 2 vs 1 worker: {result['ray_2_vs_1_worker']}x; identical index: {same}")
    print("saved", save("ray_build", result))
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
