"""Predictor service overhead: the same MOSES molecules through `litmol serve predictors` and in-process.

Both sides predict the same chunks of --batch molecules (256), one after another: in-process with
`predict_inputs`, over HTTP with `PredictorClient` (one request per chunk, --concurrency in flight).
overhead = service seconds / in-process seconds - 1 (target: <= 0.20 at batch 256). Rows must be
identical; the table says so. Workloads: rdkit (descriptors + alerts) on --n molecules, and admet
(the admet-ai endpoints, no alerts) on --admet-n molecules (0 skips it). Each side runs --repeats
times, alternating, and keeps its best time.

Without --url a local service is started (device --device) and stopped afterwards; with --url the
bench calls a service that is already running, e.g. on a GPU machine (run the bench on that machine
so the in-process side uses the same hardware).

    python bench/service_overhead.py [--n 10000] [--admet-n 1000] [--batch 256] [--url URL]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, start_service, stop_service, table  # noqa: E402
from bench.predictor_throughput import moses_smiles, rate  # noqa: E402


def time_in_process(smiles: list[str], batch: int, options: dict[str, Any]) -> tuple[float, list[Any]]:
    from litmol.predictors.api import predict_inputs

    rows: list[Any] = []  # PredictionRows
    t = time.perf_counter()
    for at in range(0, len(smiles), batch):
        rows += predict_inputs(smiles[at:at + batch], **options)
    return time.perf_counter() - t, rows


def time_service(client: Any, smiles: list[str], options: dict[str, Any]) -> tuple[float, list[Any]]:
    t = time.perf_counter()
    rows = client.predict(smiles, **options)
    return time.perf_counter() - t, rows


def bench_workload(name: str, smiles: list[str], options: dict[str, Any], client: Any, args: argparse.Namespace,
                   ) -> dict[str, Any]:
    from litmol.predictors.api import predict_inputs

    predict_inputs(smiles[:8], **options)  # load models and catalogs on both sides first
    client.predict(smiles[:8], **options)
    local, remote = float("inf"), float("inf")
    local_rows = remote_rows = None
    for _ in range(args.repeats):
        seconds, local_rows = time_in_process(smiles, args.batch, options)
        local = min(local, seconds)
        seconds, remote_rows = time_service(client, smiles, options)
        remote = min(remote, seconds)
        print(f"  {name}: in-process {local:.2f} s, service {remote:.2f} s", file=sys.stderr)
    return {"predictors": name, "molecules": len(smiles), "batch": args.batch, "concurrency": args.concurrency,
            "in_process_s": round(local, 3), "service_s": round(remote, 3),
            "in_process_mol_s": rate(len(smiles), local), "service_mol_s": rate(len(smiles), remote),
            "overhead": round(remote / local - 1, 3), "identical_rows": local_rows == remote_rows}


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--n", type=int, default=10_000, help="molecules for rdkit (descriptors + alerts)")
    ap.add_argument("--admet-n", type=int, default=1_000, help="molecules for admet (0: skip)")
    ap.add_argument("--batch", type=int, default=256, help="molecules per request / in-process call")
    ap.add_argument("--concurrency", type=int, default=1, help="requests in flight from the client")
    ap.add_argument("--repeats", type=int, default=1, help="alternating runs per side; best time kept")
    ap.add_argument("--url", help="bench this running service instead of starting one")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="for the local service")
    args = ap.parse_args()
    from litmol.predictors.service.client import PredictorClient

    smiles = moses_smiles(max(args.n, args.admet_n))
    proc = None
    url = args.url
    if url is None:
        preload = ["rdkit"] + (["admet"] if args.admet_n else [])
        proc, url = start_service("--device", args.device, "--preload", ",".join(preload),
                                  "--max-batch-size", str(max(8, args.concurrency)))
    client = PredictorClient(url, chunk_size=args.batch, concurrency=args.concurrency, retries=8)
    try:
        client.wait_until_ready(timeout=900)
        info = client.info()
        rows = []
        if args.n:
            rows.append(bench_workload("rdkit", smiles[:args.n], {"predictors": ["rdkit"], "alerts": True},
                                       client, args))
        if args.admet_n:
            rows.append(bench_workload("admet", smiles[:args.admet_n], {"predictors": ["admet"], "alerts": False},
                                       client, args))
        service_stats = client.stats()
    finally:
        client.close()
        if proc is not None:
            stop_service(proc)
    print(f"service: {url} on {info['device']} ({'started here' if proc else 'already running'}); "
          f"largest batch {service_stats['max_batch_requests']} requests")
    print(table(rows, ["predictors", "molecules", "batch", "concurrency", "in_process_mol_s", "service_mol_s",
                       "overhead", "identical_rows"]))
    print("saved", save("service_overhead", {"rows": rows, "service": {"url_given": bool(args.url), **info},
                                             "stats": service_stats}))


if __name__ == "__main__":
    main()
