"""Retrieval quality: recall@1/5/10 and MRR of dense, lexical and hybrid search.

Runs the committed query sets (corpora/eval/retrieval_{dev,test}.jsonl) against built
indexes. recall@k = |gold in top k| / min(|gold|, k); MRR = mean 1/rank of the first gold hit.

    python bench/retrieval_quality.py                       # the default index
    python bench/retrieval_quality.py --index default --reference fp32
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402
from litmol.retrieval import RetrievalSettings, open_index  # noqa: E402

EVAL = Path(__file__).resolve().parents[1] / "corpora" / "eval"
KS = (1, 5, 10)


def load_queries(split: str) -> list[dict]:
    return [json.loads(line) for line in (EVAL / f"retrieval_{split}.jsonl").read_text().splitlines()]


def score(index, queries: list[dict], mode: str) -> dict[str, float]:
    sums = {f"recall@{k}": 0.0 for k in KS} | {"mrr": 0.0}
    for q in queries:
        gold = set(q["gold_pmids"])
        ranked = [p.pmid for p in index.search(q["query"], k=max(KS), mode=mode)]
        for k in KS:
            sums[f"recall@{k}"] += len(gold & set(ranked[:k])) / min(len(gold), k)
        first = next((i for i, pmid in enumerate(ranked, 1) if pmid in gold), None)
        sums["mrr"] += 1.0 / first if first else 0.0
    return {k: round(v / len(queries), 4) for k, v in sums.items()}


def evaluate(index_name: str, splits: list[str], settings_kw: dict) -> list[dict]:
    index = open_index(RetrievalSettings(index_name=index_name, **settings_kw), verify=False)
    rows = []
    for split in splits:
        queries = load_queries(split)
        for mode in ("dense", "lexical", "hybrid"):
            rows.append({"index": index_name, "split": split, "mode": mode, "n": len(queries),
                         **score(index, queries, mode)})
        for kind in sorted({q["kind"] for q in queries}):
            sub = [q for q in queries if q["kind"] == kind]
            rows.append({"index": index_name, "split": f"{split}:{kind}", "mode": "hybrid", "n": len(sub),
                         **score(index, sub, "hybrid")})
    return rows


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--index", default="default", help="index to evaluate (built with the default settings)")
    ap.add_argument("--reference", help="an index built with fp32 sentence-transformers at 256 tokens, to compare")
    ap.add_argument("--splits", nargs="+", default=["dev", "test"])
    args = ap.parse_args()
    rows = evaluate(args.index, args.splits, {})
    if args.reference:
        rows += evaluate(args.reference, args.splits,
                         {"embed_backend": "sentence-transformers", "max_seq_length": 256})
    cols = ["index", "split", "mode", "n", "recall@1", "recall@5", "recall@10", "mrr"]
    print(table(rows, cols))
    out = {"rows": rows}
    if args.reference:
        for split in args.splits:
            ours = next(r for r in rows if r["index"] == args.index and r["split"] == split and r["mode"] == "hybrid")
            ref = next(r for r in rows if r["index"] == args.reference and r["split"] == split and r["mode"] == "hybrid")
            ours_d = next(r for r in rows if r["index"] == args.index and r["split"] == split and r["mode"] == "dense")
            ref_d = next(r for r in rows if r["index"] == args.reference and r["split"] == split and r["mode"] == "dense")
            out[f"{split}_hybrid_recall10_delta_vs_fp32"] = round(ours["recall@10"] - ref["recall@10"], 4)
            out[f"{split}_dense_recall10_delta_vs_fp32"] = round(ours_d["recall@10"] - ref_d["recall@10"], 4)
            print(f"{split}: recall@10 int8-128 minus fp32-256: hybrid {out[f'{split}_hybrid_recall10_delta_vs_fp32']:+.4f}, "
                  f"dense {out[f'{split}_dense_recall10_delta_vs_fp32']:+.4f}")
    print("saved", save("retrieval_quality", out))


if __name__ == "__main__":
    main()
