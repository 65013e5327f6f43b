"""Paired timing of TDC's hop oracle with RDKit's list-scan GetUniqueCombinations and with its set-based
GetUniqueCombinations_new (what run_pmo.py uses), on every k-th molecule a GA run scored (read from its
checkpoint): the scores must be identical and equal to the ones the run saved.

    /root/pmo-venv/bin/python bench/pmo/hop_oracle_speed.py CHECKPOINT.json deco_hop 60
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    from rdkit import Chem, RDLogger
    from rdkit.Chem.Pharm2D import Utils
    from tdc import Oracle

    RDLogger.DisableLog("rdApp.*")
    checkpoint, task, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    pairs = json.loads(checkpoint.read_text())["scores"]
    sample = pairs[::max(1, len(pairs) // n)][:n]
    oracle = Oracle(name=task)
    versions = {"list_scan": Utils.GetUniqueCombinations, "set": Utils.GetUniqueCombinations_new}
    seconds = dict.fromkeys(versions, 0.0)
    same, rows = 0, []
    for smiles, saved in sample:
        mol = Chem.MolFromSmiles(smiles)
        got, took = {}, {}
        for name, fn in versions.items():
            Utils.GetUniqueCombinations = fn
            t0 = time.perf_counter()
            got[name] = float(oracle(Chem.MolToSmiles(mol)))
            took[name] = time.perf_counter() - t0
            seconds[name] += took[name]
        same += int(got["list_scan"] == got["set"] == saved)
        rows.append((mol.GetNumHeavyAtoms(), round(took["list_scan"], 3), round(took["set"], 3)))
    print(json.dumps({"task": task, "molecules": len(sample), "identical_scores": same,
                      "seconds_list_scan": round(seconds["list_scan"], 1), "seconds_set": round(seconds["set"], 1),
                      "speedup": round(seconds["list_scan"] / seconds["set"], 1),
                      "largest_heavy_atoms_s_old_s_new": sorted(rows)[-3:]}))


if __name__ == "__main__":
    main()
