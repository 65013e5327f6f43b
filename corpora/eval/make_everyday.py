"""Write batch_dev_everyday.jsonl: 30 dev questions rewritten by hand in everyday words (the held-out
phrasing check of the fine-tuned agent). Gold, type and meta are the dev question's own; only the
wording changes, and none of these phrasings is a template of the batch or trace generators.

    python corpora/eval/make_everyday.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
REWRITES = {
    "mesh-treats-0001": "my neurologist mentioned phenobarbital for fits - is there anything published on that?",
    "mesh-treats-0014": "Anyone tried clonazepam for partial seizures? What did the studies find?",
    "mesh-treats-0020": "ephedrine as an asthma treatment, how well did it do in trials",
    "mesh-treats-0056": "Looking for papers where prednisone was given to women with amenorrhea.",
    "mesh-treats-0061": "clindamycin vs bacteroides infections - evidence?",
    "mesh-treats-0076": "How has prednisone worked out for patients with myasthenia gravis?",
    "mesh-treats-0085": "What does the literature say about using ampicillin against haemophilus infections?",
    "mesh-treats-0092": "tobramycin for keratitis, does it work?",
    "mesh-causes-0034": "I keep hearing ampicillin can trigger pseudomembranous enterocolitis. Any case reports?",
    "mesh-causes-0050": "doxorubicin and heart failure - is the drug to blame?",
    "b3db-0017": "will codeine get into the brain",
    "b3db-0041": "Quick check: zonisamide, brain penetrant or not?",
    "b3db-0054": "does ketamine make it across the BBB",
    "b3db-0062": "Would verteporfin reach the central nervous system at all?",
    "b3db-0094": "cabergoline - CNS penetration yes or no?",
    "b3db-0099": "Can atorvastatin pass into the brain?",
    "b3db-0109": "is decitabine going to cross the blood brain barrier?",
    "atc-0003": "what kind of drug is prucalopride in the ATC scheme (top level)?",
    "atc-0012": "alprazolam - which ATC main group?",
    "atc-0019": "Where does buspirone sit in the WHO ATC classification, first level?",
    "atc-0031": "netarsudil ATC anatomical group please",
    "atc-0036": "tropisetron: which ATC main category?",
    "approval-0008": "how long has docosanol been on the market - what year was it first approved?",
    "approval-0019": "ponatinib approval year?",
    "approval-0032": "When did prucalopride first get approved?",
    "approval-0043": "clofarabine - first approved when?",
    "approval-0006": "pipecuronium, when was it first approved for use?",
    "atc-class-0014": "which drugs are in the ATC prostaglandins group G02AD?",
    "atc-class-0019": "list the BRAF inhibitors in ATC class L01EC",
    "mesh-causes-0026": "methotrexate causing calcinosis - has that been reported?",
}


def main() -> None:
    rows = {r["id"]: r for r in map(json.loads, (HERE / "batch_dev.jsonl").read_text().splitlines())}
    out = []
    for qid, text in REWRITES.items():
        if qid not in rows:
            continue
        row = dict(rows[qid], question=text)
        row["meta"] = dict(row["meta"], rewritten_from=rows[qid]["question"], everyday=True)
        out.append(row)
    (HERE / "batch_dev_everyday.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out))
    print(f"{len(out)} questions -> {HERE / 'batch_dev_everyday.jsonl'}")


if __name__ == "__main__":
    main()
