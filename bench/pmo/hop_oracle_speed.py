"""Paired timing of TDC's hop oracle with three builds of RDKit's Gobbi 2D pharmacophore fingerprint, on
every k-th molecule a GA run scored (read from its checkpoint): RDKit's list-scan GetUniqueCombinations
(`list_scan`), its set-based GetUniqueCombinations_new (`set`), and fast_pharm2d.py's numpy build
(`numpy`, what run_pmo.py uses). The scores must be identical to each other and to the ones the run saved.

    /root/pmo-venv/bin/python bench/pmo/hop_oracle_speed.py CHECKPOINT.json deco_hop 60 [list_scan,set,numpy] [OUT.json]

list_scan takes minutes per molecule past ~100 heavy atoms; leave it out for late checkpoints.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import fast_pharm2d


def main() -> None:
    from rdkit import Chem, RDLogger
    from rdkit.Chem.Pharm2D import Generate, Gobbi_Pharm2D, Utils
    from tdc import Oracle

    RDLogger.DisableLog("rdApp.*")
    checkpoint, task, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    names = (sys.argv[4] if len(sys.argv) > 4 else "list_scan,set,numpy").split(",")
    pairs = json.loads(checkpoint.read_text())["scores"]
    sample = pairs[::max(1, len(pairs) // n)][:n]
    oracle = Oracle(name=task)
    rdkit_build, list_scan, by_set = Generate.Gen2DFingerprint, Utils.GetUniqueCombinations, Utils.GetUniqueCombinations_new
    versions = {"list_scan": (rdkit_build, list_scan), "set": (rdkit_build, by_set),
                "numpy": (fast_pharm2d.gen_2d_fingerprint, by_set)}
    seconds = dict.fromkeys(names, 0.0)
    same, rows, mismatches = 0, [], []
    for smiles, saved in sample:
        mol = Chem.MolFromSmiles(smiles)
        got, took = {}, {}
        for name in names:
            Generate.Gen2DFingerprint, Utils.GetUniqueCombinations = versions[name]
            t0 = time.perf_counter()
            got[name] = float(oracle(Chem.MolToSmiles(mol)))
            took[name] = time.perf_counter() - t0
            seconds[name] += took[name]
        if len(set(got.values())) == 1 and saved in got.values():
            same += 1
        else:
            mismatches.append({"heavy_atoms": mol.GetNumHeavyAtoms(), "saved": saved, **got})
        rows.append((mol.GetNumHeavyAtoms(), *(round(took[name], 3) for name in names)))
    Generate.Gen2DFingerprint = rdkit_build
    bits = fast_pharm2d.check_bits(Gobbi_Pharm2D.factory, top=40)
    result = {"task": task, "checkpoint": checkpoint.name, "molecules": len(sample), "identical_scores": same, "mismatches": mismatches[:10],
              "bit_function_identical": f"{bits[0]} of {bits[1]} (features, distances) cases",
              **{f"seconds_{name}": round(seconds[name], 1) for name in names},
              **{f"speedup_numpy_vs_{name}": round(seconds[name] / seconds["numpy"], 1)
                 for name in names if name != "numpy" and "numpy" in names},
              "largest_heavy_atoms_then_seconds_" + "_".join(names): sorted(rows)[-3:]}
    print(json.dumps(result))
    if len(sys.argv) > 5:
        Path(sys.argv[5]).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
