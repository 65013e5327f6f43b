"""Predictor throughput (molecules/s) on real MOSES molecules (molsets package).

Stages, one process each: parse + standardize, descriptors + rule checks, alerts (core =
PAINS/Brenk/NIH; all = plus medchem's collection) screened and, on a subset, unscreened (the
speed-up of the screen, same results), trained models. Then the whole RDKit path of
`predict_inputs` (parse + standardize + descriptors + core alerts) with 1 process and with one per
core, descriptors + core alerts on parsed molecules with one process per core, and admet-ai
through our wrapper next to admet-ai's own API on the same SMILES (ratio; ours must not be slower).

    python bench/predictor_throughput.py [--n 10000] [--admet-n 1000] [--model-n 2000]
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402


def moses_smiles(n: int, seed: int = 0) -> list[str]:
    import pandas as pd

    folder = Path(importlib.util.find_spec("moses").submodule_search_locations[0]) / "dataset" / "data"
    return pd.read_csv(folder / "test.csv.gz").SMILES.sample(n, random_state=seed).tolist()


def rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1)


def _descriptors_and_alerts(smiles: list[str]) -> int:
    """Worker: descriptors + core alerts of already standardized SMILES (plain RDKit parse)."""
    from rdkit import Chem

    from litmol.predictors.chem.alerts import find_alerts, pattern_bits
    from litmol.predictors.chem.descriptors import compute_descriptors

    for s in smiles:
        mol = Chem.MolFromSmiles(s)
        bits = pattern_bits(mol)  # one substructure-screen fingerprint for QED's alerts and ours
        compute_descriptors(mol, bits)
        find_alerts(mol, include_medchem=False, bits=bits)
    return len(smiles)


def _timed(rows: list[dict], stage: str, n: int, func, **extra) -> float:
    t = time.perf_counter()
    func()
    mol_per_s = rate(n, time.perf_counter() - t)
    rows.append({"stage": stage, "molecules": n, "mol_per_s": mol_per_s, **extra})
    return mol_per_s


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--n", type=int, default=10_000, help="molecules for the RDKit stages")
    ap.add_argument("--admet-n", type=int, default=1_000, help="molecules for the admet-ai comparison")
    ap.add_argument("--model-n", type=int, default=2_000, help="molecules for the trained models")
    ap.add_argument("--reference-n", type=int, default=1_000, help="molecules for the unscreened alert reference")
    args = ap.parse_args()
    import os
    from concurrent.futures import ProcessPoolExecutor

    from litmol.predictors.api import predict_inputs
    from litmol.predictors.chem.alerts import alert_set, find_alerts
    from litmol.predictors.chem.descriptors import compute_descriptors
    from litmol.predictors.chem.mol import parse_molecule
    from litmol.predictors.registry import get_predictor

    smiles = moses_smiles(args.n)
    cores = len(os.sched_getaffinity(0))
    rows: list[dict] = []
    parsed = []
    _timed(rows, "parse + standardize", len(smiles), lambda: parsed.extend(parse_molecule(s) for s in smiles))
    mols = [p.mol for p in parsed if p.mol is not None]
    std_smiles = [p.smiles for p in parsed if p.mol is not None]
    _timed(rows, "descriptors + rules", len(mols), lambda: [compute_descriptors(m) for m in mols])
    alert_set(True), alert_set(False)  # build the catalogs once
    ref = mols[: args.reference_n]
    for mode, medchem in (("core (PAINS/Brenk/NIH)", False), ("all (+ medchem)", True)):
        unscreened = _timed(rows, f"alerts {mode}, unscreened", len(ref),
                            lambda medchem=medchem: [find_alerts(m, medchem, screen=False) for m in ref])
        screened = _timed(rows, f"alerts {mode}, screened", len(mols),
                          lambda medchem=medchem: [find_alerts(m, medchem) for m in mols])
        rows[-1]["ratio"] = round(screened / unscreened, 2)
    _timed(rows, "descriptors + core alerts, 1 process", len(std_smiles),
           lambda: _descriptors_and_alerts(std_smiles))
    chunks = [std_smiles[i:i + 250] for i in range(0, len(std_smiles), 250)]
    with ProcessPoolExecutor(cores) as pool:
        list(pool.map(_descriptors_and_alerts, [c[:5] for c in chunks[:cores]]))  # start workers
        _timed(rows, f"descriptors + core alerts, {cores} processes", len(std_smiles),
               lambda: list(pool.map(_descriptors_and_alerts, chunks)))
    os.environ["LITMOL_PREDICT_WORKERS"] = "1"
    serial = _timed(rows, "predict_inputs (parse..core alerts), 1 process", len(smiles),
                    lambda: [predict_inputs(smiles[i:i + 5000]) for i in range(0, len(smiles), 5000)])
    os.environ["LITMOL_PREDICT_WORKERS"] = str(cores)
    predict_inputs(smiles[:600])  # start the pool
    parallel = _timed(rows, f"predict_inputs (parse..core alerts), {cores} processes", len(smiles),
                      lambda: [predict_inputs(smiles[i:i + 5000]) for i in range(0, len(smiles), 5000)])
    rows[-1]["ratio"] = round(parallel / serial, 2)
    for name in ("logs", "logd", "bbb"):
        model = get_predictor(name)
        model.predict(mols[:8])
        _timed(rows, f"trained model {name} (features + 5 MLPs)", len(mols[: args.model_n]),
               lambda model=model: model.predict(mols[: args.model_n]))

    if args.admet_n:
        from admet_ai import ADMETModel

        sub = std_smiles[: args.admet_n]
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
