"""Predictor throughput (molecules/s) on real MOSES molecules (molsets package), one process.

Stages: parse + standardize, descriptors + rule checks, alerts (RDKit PAINS/Brenk/NIH, and with
medchem's collection), and admet-ai endpoints through our wrapper next to admet-ai's own API on
the same SMILES in the same run (ratio; ours must not be slower).

    python bench/predictor_throughput.py [--n 10000] [--admet-n 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import save, table  # noqa: E402


def moses_smiles(n: int, seed: int = 0) -> list[str]:
    import pandas as pd

    folder = Path(importlib.util.find_spec("moses").submodule_search_locations[0]) / "dataset" / "data"
    return pd.read_csv(folder / "test.csv.gz").SMILES.sample(n, random_state=seed).tolist()


def rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="molecules for the RDKit stages")
    ap.add_argument("--admet-n", type=int, default=1_000, help="molecules for the admet-ai comparison")
    args = ap.parse_args()
    from predictors.descriptors import compute_descriptors, find_alerts
    from predictors.mol import parse_molecule

    smiles = moses_smiles(args.n)
    rows = []
    t = time.perf_counter()
    mols = [parse_molecule(s).mol for s in smiles]
    rows.append({"stage": "parse + standardize", "molecules": len(smiles), "mol_per_s": rate(len(smiles), time.perf_counter() - t)})
    t = time.perf_counter()
    for m in mols:
        compute_descriptors(m)
    rows.append({"stage": "descriptors + rules", "molecules": len(mols), "mol_per_s": rate(len(mols), time.perf_counter() - t)})
    find_alerts(mols[0])  # build catalogs once
    t = time.perf_counter()
    for m in mols:
        find_alerts(m, include_medchem=False)
    rows.append({"stage": "alerts: PAINS/Brenk/NIH", "molecules": len(mols), "mol_per_s": rate(len(mols), time.perf_counter() - t)})
    t = time.perf_counter()
    for m in mols:
        find_alerts(m)
    rows.append({"stage": "alerts: + medchem collection", "molecules": len(mols), "mol_per_s": rate(len(mols), time.perf_counter() - t)})

    if args.admet_n:
        from admet_ai import ADMETModel

        from predictors import get_predictor

        sub = [s for s, m in zip(smiles, mols, strict=True) if m is not None][: args.admet_n]
        ours = get_predictor("admet")
        ours.predict_smiles(sub[:8])  # load models
        t = time.perf_counter()
        ours.predict_smiles(sub)
        ours_rate = rate(len(sub), time.perf_counter() - t)
        theirs = ADMETModel(num_workers=0, include_physchem=False)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            theirs.predict(smiles=sub[:8])
            t = time.perf_counter()
            theirs.predict(smiles=sub)
        theirs_rate = rate(len(sub), time.perf_counter() - t)
        rows.append({"stage": "admet-ai via litmol", "molecules": len(sub), "mol_per_s": ours_rate})
        rows.append({"stage": "admet-ai own API", "molecules": len(sub), "mol_per_s": theirs_rate,
                     "ratio": round(ours_rate / theirs_rate, 3)})
    print(table(rows, ["stage", "molecules", "mol_per_s", "ratio"]))
    print("saved", save("predictor_throughput", {"rows": rows}))


if __name__ == "__main__":
    main()
