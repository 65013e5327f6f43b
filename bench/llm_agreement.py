"""Two `litmol eval run` folders of the same batch, answered by two runtimes (e.g. the fp32
transformers reference and a quantized llama.cpp default): how often their greedy outputs agree
and how fast each was.

Per question: the first tool call (name; name and arguments), the whole tool sequence, and the
answer text; then latency p50/p95 and the prompt tokens actually prefilled per question (the rest
came from the KV cache) for each run. Accuracy and its paired test: `litmol eval compare A B`.

    python bench/llm_agreement.py runs/dev_transformers runs/dev_llama_q4_0 [--limit 50] [--name NAME]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402


def records(folder: Path) -> dict[str, dict]:
    lines = (folder / "results.jsonl").read_text().splitlines()
    return {r["id"]: r for r in map(json.loads, lines) if not r.get("error")}


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, round(q * (len(values) - 1)))], 2)


def runtime(folder: Path) -> str:
    rt = json.loads((folder / "run.json").read_text()).get("runtime") or {}
    return f"{rt.get('engine', '?')} {rt.get('model', '')} {rt.get('quantization', '')}".strip()


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("reference", type=Path, help="run folder of the reference runtime")
    ap.add_argument("candidate", type=Path, help="run folder of the runtime compared with it")
    ap.add_argument("--limit", type=int, help="only the first N questions both runs answered (file order)")
    ap.add_argument("--name", default="llm_agreement", help="bench/results/NAME.json")
    args = ap.parse_args()
    ref, cand = records(args.reference), records(args.candidate)
    ids = [i for i in ref if i in cand][: args.limit]
    if not ids:
        raise SystemExit("no question answered by both runs")

    def first(r: dict) -> dict | None:
        return r["tool_calls"][0] if r["tool_calls"] else None

    same_tool = sum((first(ref[i]) or {}).get("name") == (first(cand[i]) or {}).get("name") for i in ids)
    same_call = sum(first(ref[i]) == first(cand[i]) if first(ref[i]) is None else
                    (first(cand[i]) is not None and first(ref[i])["name"] == first(cand[i])["name"]
                     and first(ref[i])["args"] == first(cand[i])["args"]) for i in ids)
    same_seq = sum([t["name"] for t in ref[i]["tool_calls"]] == [t["name"] for t in cand[i]["tool_calls"]] for i in ids)
    same_answer = sum(ref[i]["answer"] == cand[i]["answer"] for i in ids)
    n = len(ids)
    agreement = {"questions": n, "first_tool": round(same_tool / n, 3), "first_call_and_args": round(same_call / n, 3),
                 "tool_sequence": round(same_seq / n, 3), "answer_identical": round(same_answer / n, 3)}
    rows = []
    for label, folder, recs in (("reference", args.reference, ref), ("candidate", args.candidate, cand)):
        lat = [recs[i]["latency_s"] for i in ids]
        pre = [recs[i].get("tokens_prefilled") for i in ids if recs[i].get("tokens_prefilled") is not None]
        prompt = [recs[i]["tokens_in"] for i in ids]
        rows.append({"run": label, "runtime": runtime(folder), "p50_s": pct(lat, 0.5), "p95_s": pct(lat, 0.95),
                     "prompt_tokens_mean": round(sum(prompt) / n), "prefilled_mean": round(sum(pre) / len(pre)) if pre else None,
                     "prefilled_share": round(sum(pre) / sum(prompt), 3) if pre else None})
    print(table([agreement], list(agreement)))
    print()
    print(table(rows, list(rows[0])))
    print(f"-> {save(args.name, {'agreement': agreement, 'runs': rows, 'reference': str(args.reference), 'candidate': str(args.candidate)})}")


if __name__ == "__main__":
    main()
