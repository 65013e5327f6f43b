"""Training speed of `litmol agent finetune` on this machine: tokens trained per second (every token of
every trace, forward and backward) for fp32 / bf16 autocast x LoRA on every layer / the top 8 layers,
on the same traces, each in its own process, one after the other. The loss is computed on the
assistant positions only in every variant (agent/training/sft.py).

    python bench/finetune_speed.py                  # 8 traces, 2 optimizer steps of 2 traces each per variant
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402

VARIANTS = [("fp32", "no", None), ("bf16", "yes", None), ("fp32", "no", 8), ("bf16", "yes", 8)]


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--traces", default="corpora/training/traces.jsonl")
    ap.add_argument("--limit", type=int, default=8, help="traces per variant (default 8)")
    ap.add_argument("--name", default="finetune_speed", help="bench/results/NAME.json")
    args = ap.parse_args()
    rows = []
    for precision, bf16, layers in VARIANTS:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "litmol.cli", "-q", "agent", "finetune", "--traces", args.traces,
                   "--out", f"{tmp}/adapter", "--checkpoints", f"{tmp}/checkpoints", "--limit", str(args.limit),
                   "--grad-accum", "2", "--max-steps", str(args.limit // 2 // 2), "--bf16", bf16]
            if layers:
                cmd += ["--layers", str(layers)]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{precision} {layers}: failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                continue
            summary = json.loads((Path(tmp) / "adapter" / "training.json").read_text())
        rows.append({"precision": precision, "lora_layers": layers or "all", "traces": summary["trained_on"],
                     "tokens_per_trace": summary["sequence_tokens_mean"],
                     "loss_tokens_per_trace": summary["assistant_tokens_mean"], "seconds": summary["seconds"],
                     "tokens_per_s": summary["tokens_per_s"]})
        print(f"{precision} {layers or 'all'}: done", file=sys.stderr)
    ref = next((r["tokens_per_s"] for r in rows if r["precision"] == "fp32" and r["lora_layers"] == "all"), None)
    for r in rows:
        r["x_fp32_all"] = round(r["tokens_per_s"] / ref, 2) if ref and r["tokens_per_s"] else None
    print(table(rows, ["precision", "lora_layers", "traces", "tokens_per_trace", "loss_tokens_per_trace", "seconds",
                       "tokens_per_s", "x_fp32_all"]))
    print("->", save(args.name, {"rows": rows, "traces": args.traces}))


if __name__ == "__main__":
    main()
