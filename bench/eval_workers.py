"""Speed-up of `litmol eval run --workers N` with the OpenAI-compatible backend.

A real OpenAI-compatible server runs the default 0.5B model on this machine: transformers'
own `transformers serve` (FastAPI, chat completions with Qwen tool-call parsing, continuous
batching so several requests decode in one batch), started here on loopback. The same first
N questions of the dev batch then run through the real CLI (`litmol eval run --backend openai`)
with 1 worker and with more; the table gives wall time, questions per minute, the speed-up
over one worker, and the run's own metrics (tool-call validity, accuracy) so a speed-up that
costs answers shows. vLLM is not installed on the lent GPU machines; this is what runs here.

    python bench/eval_workers.py                   # 12 questions, workers 1 and 4
    python bench/eval_workers.py --n 8 --workers 1 2 4
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import arg_parser, save, table  # noqa: E402

BATCH = ROOT / "corpora" / "eval" / "batch_dev.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 600) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} not ready after {timeout} s")


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--n", type=int, default=12, help="questions of the dev batch (default 12)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--batch", default=str(BATCH))
    ap.add_argument("--no-continuous-batching", action="store_true")
    args = ap.parse_args()

    from litmol.agent.weights import resolve_model_path

    model_dir = resolve_model_path("0.5b")
    port = free_port()
    cmd = [str(Path(sys.executable).with_name("transformers")), "serve", model_dir, "--host", "127.0.0.1",
           "--port", str(port), "--device", "cpu", "--dtype", "float32"]
    if not args.no_continuous_batching:
        cmd.append("--continuous-batching")
    log = open(Path(tempfile.gettempdir()) / "litmol-serve.log", "w")  # noqa: SIM115
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    rows = []
    try:
        startup = wait_ready(f"http://127.0.0.1:{port}/health", server)
        base = f"http://127.0.0.1:{port}/v1"
        warm = json.dumps({"model": model_dir, "max_tokens": 8,
                           "messages": [{"role": "user", "content": "Say hello."}]}).encode()
        urllib.request.urlopen(urllib.request.Request(f"{base}/chat/completions", warm,  # noqa: S310 (loopback)
                                                      {"Content-Type": "application/json"}), timeout=300).read()
        for workers in args.workers:
            with tempfile.TemporaryDirectory() as out:
                t0 = time.perf_counter()
                run = subprocess.run([sys.executable, "-m", "litmol.cli", "eval", "run", args.batch, "--out", out,
                                      "--backend", "openai", "--base-url", base, "--model", model_dir,
                                      "--workers", str(workers), "--limit", str(args.n), "-q"],
                                     capture_output=True, text=True, env=dict(os.environ, TQDM_DISABLE="1"))
                wall = time.perf_counter() - t0
                if run.returncode != 0:
                    raise RuntimeError(f"eval run failed: {run.stderr.strip()[-500:]}")
                metrics = json.loads((Path(out) / "metrics.json").read_text())
            overall = metrics.get("overall", metrics)
            rows.append({"workers": workers, "questions": args.n, "wall_s": round(wall, 1),
                         "q_per_min": round(60 * args.n / wall, 2),
                         "latency_p50_s": overall.get("latency_p50_s"),
                         "tool_valid": overall.get("tool_call_validity"), "accuracy": overall.get("accuracy"),
                         "errors": overall.get("error_rate")})
            print(f"workers {workers}: {wall:.1f} s", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    base_wall = rows[0]["wall_s"]
    for r in rows:
        r["speedup"] = round(base_wall / r["wall_s"], 2)
    print(table(rows, ["workers", "questions", "wall_s", "q_per_min", "speedup", "latency_p50_s", "tool_valid",
                       "accuracy", "errors"]))
    server_name = "transformers serve" + ("" if args.no_continuous_batching else " --continuous-batching")
    result = {"server": server_name, "model": "0.5b (fp32, CPU)", "server_startup_s": round(startup, 1), "rows": rows}
    print(f"saved {save('eval_workers', result)}")


if __name__ == "__main__":
    main()
