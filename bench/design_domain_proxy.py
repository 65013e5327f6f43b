"""Where the approved-drug domain check of admet-ai objectives cuts (predictors/design/scoring.py,
PROXY_DOMAIN): the Tanimoto (Morgan r2, 2048 bits) of random ZINC 250k molecules to their nearest approved
drug, and the fraction of them each threshold would put outside the domain.

    python bench/design_domain_proxy.py              # 1,000 molecules, seed 0
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4)


def main() -> None:
    from litmol.predictors.chem.mol import to_mol
    from litmol.predictors.design.pool import approved_pool, pool_sample
    from litmol.predictors.design.scoring import PROXY_DOMAIN, fingerprint

    ap = arg_parser(__doc__)
    ap.add_argument("-n", type=int, default=1000, help="ZINC molecules sampled (default 1000)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    drugs = approved_pool()
    sims = []
    for smiles in pool_sample(args.n, args.seed):
        fp = fingerprint(to_mol(smiles, standardize_mol=False))
        if fp is not None:
            sims.append(drugs.nearest(fp, 1)[0][1])
    sims = np.array(sims)
    rows = [{"threshold": t, "outside_domain": round(float((sims < t).mean()), 3),
             "shipped": "yes" if t == PROXY_DOMAIN else ""} for t in THRESHOLDS]
    print(f"{len(sims)} ZINC molecules, nearest approved drug: median Tanimoto {np.median(sims):.3f}")
    print(table(rows, ["threshold", "outside_domain", "shipped"]))
    save("design_domain_proxy", {"molecules": len(sims), "seed": args.seed, "median": round(float(np.median(sims)), 4),
                                 "approved_drugs": len(drugs.fps), "thresholds": rows})


if __name__ == "__main__":
    main()
