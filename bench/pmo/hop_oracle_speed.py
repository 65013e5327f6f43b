"""Paired timing of TDC's hop oracle with RDKit's list-scan GetUniqueCombinations and with the set-based
GetUniqueCombinations_new, on every k-th molecule a GA run scored (from its checkpoint); same scores?

    /root/pmo-venv/bin/python bench/pmo/hop_oracle_speed.py CHECKPOINT.json deco_hop 60
"""
import json, sys, time
from rdkit import Chem, RDLogger
from rdkit.Chem.Pharm2D import Utils
RDLogger.DisableLog("rdApp.*")
from tdc import Oracle
ck = json.load(open(sys.argv[1])); task = sys.argv[2]; n = int(sys.argv[3])
pairs = ck["scores"]; step = max(1, len(pairs) // n); sample = pairs[::step][:n]
oracle = Oracle(name=task)
old, new = Utils.GetUniqueCombinations, Utils.GetUniqueCombinations_new
t_old = t_new = 0.0; same = 0; rows = []
for s, v in sample:
    smi = Chem.MolToSmiles(Chem.MolFromSmiles(s))
    Utils.GetUniqueCombinations = old; t = time.perf_counter(); a = oracle(smi); d_old = time.perf_counter() - t
    Utils.GetUniqueCombinations = new; t = time.perf_counter(); b = oracle(smi); d_new = time.perf_counter() - t
    t_old += d_old; t_new += d_new; same += int(float(a) == float(b) == v)
    rows.append((Chem.MolFromSmiles(s).GetNumHeavyAtoms(), round(d_old, 3), round(d_new, 3)))
rows.sort()
print(json.dumps({"task": task, "molecules": len(sample), "identical_scores": same, "seconds_list_scan": round(t_old, 1),
                  "seconds_set": round(t_new, 1), "speedup": round(t_old / t_new, 1), "largest": rows[-3:]}))
