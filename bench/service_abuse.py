"""Latency of a small predictor request while abusive clients hammer the service (issue 15, item 7).

Starts `litmol serve predictors` on loopback (cpu, one worker, default limits), then:
1. idle: --small one-aspirin requests one after another -> p50/p95 seconds;
2. one abusive request answered in full: a --name-mb MB name-like string -> seconds and response bytes;
3. under abuse: --name-clients threads loop posting 5 MB name-like strings and --list-clients threads loop
   posting 1,000 real molecules with every alert rule set (~30 s of work each), all with a 1 s client
   timeout (they hang up); meanwhile --small one-aspirin requests -> p50/p95, ratio to idle. The phase
   stops after --budget seconds; requests still unanswered then count as "unanswered".

With --before DIR the same run is made first against the code in DIR (e.g. a `git worktree` of HEAD
before the fix), then against this tree; both go to bench/results/service_abuse.json.

    python bench/service_abuse.py [--before /tmp/litmol-head] [--small 10] [--budget 180]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, start_service, stop_service, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"








def heavy_molecules(n: int = 1_000) -> list[str]:
    with (ROOT / "tests" / "data" / "molecules.csv").open() as fh:
        smiles = [row["smiles"] for row in csv.DictReader(fh) if row["smiles"]]
    return (smiles * (n // len(smiles) + 1))[:n]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def small_latencies(url: str, n: int, deadline: float) -> tuple[list[float], int]:
    """Seconds of up to n one-aspirin requests made one after another, and how many got no answer in time."""
    import httpx

    latencies: list[float] = []
    unanswered = 0
    with httpx.Client() as client:
        for _ in range(n):
            left = deadline - time.monotonic()
            if left <= 1:
                unanswered += 1
                break
            start = time.perf_counter()
            try:
                response = client.post(f"{url}/predict", json={"inputs": [ASPIRIN]}, timeout=left)
            except httpx.TimeoutException:
                unanswered += 1
                break
            assert response.status_code == 200 and response.json()["results"][0]["valid"], response.text[:200]
            latencies.append(time.perf_counter() - start)
    return latencies, unanswered


def measure(code: Path, args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    proc, url = start_service("--device", "cpu", "--preload", "rdkit", code=code, ready_s=180)
    try:
        idle, _ = small_latencies(url, args.small, time.monotonic() + 120)
        name = ("metformin hydrochloride " * (args.name_mb * 50_000))[: args.name_mb * 1_000_000]
        start = time.perf_counter()
        response = httpx.post(f"{url}/predict", json={"inputs": [name]}, timeout=300)
        huge = {"request_bytes": len(name) + 14, "response_bytes": len(response.content), "status": response.status_code,
                "seconds": round(time.perf_counter() - start, 2)}
        abusive = [{"inputs": [("aspirin " * 700_000)[:5_000_000]]}] * args.name_clients
        abusive += [{"inputs": heavy_molecules(), "alerts": "all"}] * args.list_clients
        stop = threading.Event()
        sent = [0] * len(abusive)

        def hang_up_repeatedly(i: int) -> None:
            with httpx.Client(timeout=1.0) as client:
                while not stop.is_set():
                    sent[i] += 1
                    with contextlib.suppress(httpx.HTTPError):
                        client.post(f"{url}/predict", json=abusive[i])

        threads = [threading.Thread(target=hang_up_repeatedly, args=(i,), daemon=True) for i in range(len(abusive))]
        for t in threads:
            t.start()
        try:
            time.sleep(1.5)
            busy, unanswered = small_latencies(url, args.small, time.monotonic() + args.budget)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        stats = httpx.get(f"{url}/stats", timeout=30).json()
    finally:
        stop_service(proc, timeout=20)
    idle_p50 = percentile(idle, 0.5)
    return {
        "code": str(code), "idle_p50_s": round(idle_p50, 4), "idle_p95_s": round(percentile(idle, 0.95), 4),
        "abused_p50_s": round(percentile(busy, 0.5), 3) if busy else None,
        "abused_p95_s": round(percentile(busy, 0.95), 3) if busy else None,
        "abused_max_s": round(max(busy), 3) if busy else None,
        "abused_answered": len(busy), "abused_unanswered": unanswered,
        "p50_ratio_to_idle": round(percentile(busy, 0.5) / idle_p50, 1) if busy else None,
        "abusive_requests_sent": sum(sent), "huge_name_request": huge,
        "server_cancelled": stats.get("cancelled"), "server_dropped_molecules": stats.get("dropped_molecules"),
    }


def main() -> None:
    parser = arg_parser(__doc__)
    parser.add_argument("--before", type=Path, default=None, help="Code to measure first (e.g. a worktree of HEAD).")
    parser.add_argument("--small", type=int, default=10, help="Small requests per phase.")
    parser.add_argument("--budget", type=float, default=180, help="Seconds the abused phase may take at most.")
    parser.add_argument("--name-mb", type=int, default=15, help="Size of the one huge name answered in full.")
    parser.add_argument("--name-clients", type=int, default=4, help="Clients looping 5 MB names (1 s timeout).")
    parser.add_argument("--list-clients", type=int, default=2, help="Clients looping 1,000 molecules (1 s timeout).")
    args = parser.parse_args()
    runs: dict[str, Any] = {}
    if args.before:
        runs["before"] = measure(args.before.resolve(), args)
    runs["after"] = measure(ROOT, args)
    rows = [{"run": label, "idle p50": r["idle_p50_s"], "idle p95": r["idle_p95_s"], "abused p50": r["abused_p50_s"],
             "abused p95": r["abused_p95_s"], "x idle": r["p50_ratio_to_idle"],
             "answered": f"{r['abused_answered']}/{r['abused_answered'] + r['abused_unanswered']}",
             "huge name s": r["huge_name_request"]["seconds"],
             "huge name resp MB": round(r["huge_name_request"]["response_bytes"] / 1e6, 1),
             "cancelled": r["server_cancelled"]} for label, r in runs.items()]
    print(table(rows, list(rows[0])))
    path = save("service_abuse", {"settings": {k: str(v) for k, v in vars(args).items()}, **runs})
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
