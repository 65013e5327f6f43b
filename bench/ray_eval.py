"""`litmol eval run --ray` against `litmol serve llm` on CPU: validity, accuracy and wall time.

Starts `litmol serve llm` (llama-cpp-python's server on the shipped 0.5B GGUF) on loopback, then runs the
dev batch subset through the real CLI with the openai backend three ways: --workers 1, --workers N, and
--ray --ray-workers N (a local Ray cluster: N actors, each with its own agent session, sharing the one
server). Reports wall time, tool-call validity and accuracy of each, and the paired comparison
(`litmol eval compare`, McNemar) of the Ray run against the local backend's run of the same batch.

    python bench/ray_eval.py [--batch corpora/eval/batch_dev_subset16.jsonl] [--workers 2]
        [--local bench/results/eval_dev16_links/dev16_textmining]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import arg_parser, free_port, save, table  # noqa: E402
from bench.eval_workers import wait_ready  # noqa: E402

OUT = ROOT / "bench" / "results" / "eval_dev16_ray"


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--batch", default="corpora/eval/batch_dev_subset16.jsonl")
    ap.add_argument("--workers", type=int, default=2, help="threads / Ray actors of the parallel runs (default 2)")
    ap.add_argument("--local", default="bench/results/eval_dev16_links/dev16_textmining",
                    help="the local backend's run of the same batch (the accuracy reference)")
    args = ap.parse_args()

    port = free_port()
    log = (Path(tempfile.gettempdir()) / "litmol-ray-eval-serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "litmol.cli", "serve", "llm", "--port", str(port),
                               "--threads", str(len(os.sched_getaffinity(0)))], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    rows = []
    variants = [("workers 1", ["--workers", "1"]), (f"workers {args.workers}", ["--workers", str(args.workers)]),
                (f"ray, {args.workers} actors", ["--ray", "--ray-workers", str(args.workers)])]
    try:
        startup = wait_ready(base + "/models", server)
        for name, extra in variants:
            out = OUT / name.replace(",", "").replace(" ", "_")
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.perf_counter()
            run = subprocess.run([sys.executable, "-m", "litmol.cli", "eval", "run", args.batch, "--out", str(out),
                                  "--backend", "openai", "--base-url", base, "--model", "litmol-0.5b", "-q", *extra],
                                 capture_output=True, text=True, env=dict(os.environ, TQDM_DISABLE="1"))
            wall = time.perf_counter() - t0
            if run.returncode != 0:
                raise RuntimeError(f"eval run ({name}) failed: {run.stderr.strip()[-800:]}")
            overall = json.loads((out / "metrics.json").read_text())["overall"]
            records = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines() if x.strip()]
            calls = [c for r in records for c in r["tool_calls"]]
            rows.append({"run": name, "questions": len(records), "wall_s": round(wall, 1),
                         "q_per_min": round(60 * len(records) / wall, 2),
                         "tool_calls_valid": round(sum(c["valid"] for c in calls) / max(1, len(calls)), 3),
                         "invalid_tool_calls": sum(r["invalid_tool_calls"] for r in records),
                         "accuracy": overall["accuracy"], "errors": overall["errors"],
                         "ids_once": len({r["id"] for r in records}) == len(records), "dir": str(out.relative_to(ROOT))})
            print(rows[-1], flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    for r in rows:
        r["speedup_vs_1"] = round(rows[0]["wall_s"] / r["wall_s"], 2)
    compare = subprocess.run([sys.executable, "-m", "litmol.cli", "eval", "compare", args.local, rows[-1]["dir"]],
                             capture_output=True, text=True, cwd=ROOT)
    (OUT / "compare_ray_vs_local.txt").write_text(compare.stdout)
    print(table(rows, ["run", "questions", "wall_s", "q_per_min", "speedup_vs_1", "tool_calls_valid",
                       "invalid_tool_calls", "accuracy", "errors", "ids_once"]))
    print(compare.stdout)
    print("saved", save("ray_eval", {"server": "litmol serve llm (llama-cpp-python, shipped 0.5B GGUF)",
                                     "server_startup_s": round(startup, 1), "batch": args.batch,
                                     "local_reference": args.local, "rows": rows,
                                     "compare_ray_vs_local": compare.stdout}))


if __name__ == "__main__":
    main()
