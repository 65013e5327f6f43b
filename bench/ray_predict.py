"""`litmol predict --input LIBRARY --ray` against the in-process path at the same core count.

A library of --n MOSES molecules (the `molsets` package's training set, a seeded sample) is written as
Parquet; then it is scored by the CLI's in-process path (`predict()` in chunks of 2,048, its RDKit stage on
one process per core) and by `predict_file_on_ray` on a local Ray cluster with one actor per core, both
writing Parquet. Reports mol/s of each, the Ray/in-process ratio, and whether both outputs hold the same
rows and values.

    python bench/ray_predict.py [--n 100000] [--predictors rdkit]
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--n", type=int, default=100_000, help="molecules (default 100,000)")
    ap.add_argument("--predictors", default="rdkit", help="comma-separated predictors (default rdkit)")
    ap.add_argument("--workers", type=int, default=0, help="Ray actors (default: one per core)")
    args = ap.parse_args()

    import pandas as pd

    from litmol.predictors.api import predict
    from litmol.predictors.distributed import predict_file_on_ray
    from litmol.predictors.files import chunks, read_molecule_file, write_results

    predictors = [p for p in args.predictors.split(",") if p]
    folder = Path(importlib.util.find_spec("moses").submodule_search_locations[0]) / "dataset" / "data"
    smiles = pd.read_csv(folder / "train.csv.gz").SMILES.sample(args.n, random_state=0).tolist()
    work = Path(tempfile.mkdtemp(prefix="litmol-raypredict-"))
    library = work / "library.parquet"
    pd.DataFrame({"id": range(len(smiles)), "smiles": smiles}).to_parquet(library, index=False)
    cores = len(os.sched_getaffinity(0))

    t = time.perf_counter()
    rows, texts, _ = read_molecule_file(library)
    results = []
    for part in chunks(texts, 2048):
        results += predict(part, None, predictors)
    write_results(work / "in_process.parquet", rows, results)
    local_s = time.perf_counter() - t
    print(f"in process: {local_s:.1f} s, {len(texts) / local_s:.1f} mol/s", flush=True)

    t = time.perf_counter()
    report = predict_file_on_ray(library, work / "ray.parquet", predictors=predictors, address="local",
                                 workers=args.workers, progress=False)
    ray_s = time.perf_counter() - t
    print(f"ray ({report['workers']} workers): {ray_s:.1f} s, {len(texts) / ray_s:.1f} mol/s", flush=True)

    a, b = pd.read_parquet(work / "in_process.parquet"), pd.read_parquet(work / "ray.parquet")
    same = list(a["id"]) == list(b["id"]) and all(
        a[c].equals(b[c]) or bool(((a[c] - b[c]).abs() < 1e-6).all()) if a[c].dtype.kind == "f" else
        a[c].fillna("").astype(str).equals(b[c].fillna("").astype(str)) for c in a.columns)
    result = {"molecules": len(texts), "predictors": predictors, "cores": cores,
              "in_process": {"seconds": round(local_s, 1), "mol_per_s": round(len(texts) / local_s, 1),
                             "processes": cores},
              "ray": {"seconds": round(ray_s, 1), "mol_per_s": round(len(texts) / ray_s, 1),
                      "workers": report["workers"], "wall_s_inside": report["wall_s"]},
              "ray_vs_in_process": round(local_s / ray_s, 3), "invalid_rows": report["invalid"],
              "same_rows_and_values": same}
    print(table([{"path": "in process", "mol/s": result["in_process"]["mol_per_s"]},
                 {"path": f"ray, {report['workers']} workers", "mol/s": result["ray"]["mol_per_s"]}],
                ["path", "mol/s"]))
    print(f"ray / in-process throughput: {result['ray_vs_in_process']}x; identical output: {same}")
    print("saved", save("ray_predict", result))


if __name__ == "__main__":
    main()
