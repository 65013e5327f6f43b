"""Index build throughput on the default corpus, next to raw fp32 sentence-transformers encoding.

Builds the default corpus index from scratch in a temporary LITMOL_HOME (lexical stage first,
then the dense stage with the configured embedder: int8 ONNX at 128 tokens by default) and, in
the same run, encodes a random sample of the same texts with plain sentence-transformers fp32
at the model's full 256 tokens (the baseline). Reports:
  * seconds until lexical search over the whole corpus works
  * dense build: seconds, abstracts/s end to end, encoder abstracts/s, share of time outside encoding
  * fp32 baseline abstracts/s and the speed-up ratio

    python bench/build_throughput.py [--sample 800] [--keep HOME]
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402
from litmol.retrieval import RetrievalSettings, build_index, open_index  # noqa: E402
from litmol.retrieval.build import build_dense  # noqa: E402
from litmol.retrieval.embed import embedder_from_settings, load_embedder  # noqa: E402


def fp32_rate(texts: list[str]) -> float:
    emb = load_embedder("all-MiniLM-L6-v2", "sentence-transformers", 256, batch_size=32)
    emb.encode(texts[:32])  # load + warm up
    start = time.perf_counter()
    emb.encode(texts)
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--sample", type=int, default=800, help="texts for the fp32 baseline (default 800)")
    ap.add_argument("--keep", help="build into this LITMOL_HOME and keep it (default: a temporary one)")
    args = ap.parse_args()
    home = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="litmol-bench-"))
    settings = RetrievalSettings(home=home)

    t0 = time.perf_counter()
    build_index(None, settings, stage="lexical")
    idx = open_index(settings)
    assert idx.search("metformin cancer", k=3, mode="lexical")
    t_lexical = time.perf_counter() - t0
    texts = [t for _, t in idx.store.texts()]
    n = len(texts)
    idx.close()

    t1 = time.perf_counter()
    manifest = build_dense(settings, progress=True)
    t_dense = time.perf_counter() - t1
    total = time.perf_counter() - t0
    encode_s = manifest["timings_s"]["encode"]

    sample = random.Random(0).sample(texts, min(args.sample, n))
    ours_emb = embedder_from_settings(settings)
    ours_emb.encode(sample[:32])
    s = time.perf_counter()
    ours_emb.encode(sample)
    ours_sample_rate = len(sample) / (time.perf_counter() - s)
    base_rate = fp32_rate(sample)

    result = {
        "articles": n,
        "lexical_ready_s": round(t_lexical, 1),
        "dense_build_s": round(t_dense, 1),
        "total_build_s": round(total, 1),
        "build_abstracts_per_s": round(n / t_dense, 1),
        "encode_abstracts_per_s": round(n / encode_s, 1),
        "outside_encoding_share": round((total - encode_s) / total, 3),
        "ours_on_sample_per_s": round(ours_sample_rate, 1),
        "fp32_256_on_sample_per_s": round(base_rate, 1),
        "speedup_build_vs_fp32": round((n / t_dense) / base_rate, 2),
        "speedup_encoder_same_texts": round(ours_sample_rate / base_rate, 2),
        "embedder": manifest["embedder"],
        "timings_s": manifest["timings_s"],
    }
    rows = [{"what": k, "value": v} for k, v in result.items() if not isinstance(v, dict)]
    print(table(rows, ["what", "value"]))
    print("saved", save("build_throughput", result))
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
