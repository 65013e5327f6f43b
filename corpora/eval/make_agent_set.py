"""Generate the agent dev question set (agent_dev.jsonl): hand-written questions, answer keys from data.

Four kinds, phrased the way users type them (questions written by a person, not generated):
  * `literature` — answerable from the default corpus; gold PMIDs come from the retrieval dev set
                   (retrieval_dev.jsonl) entry the question was written from (`from`).
  * `property`   — a property of a named drug. The key is experimental where a packaged data set
                   measured that drug (AqSolDB logS, AZ logD7.4, B3DB BBB+/-), else the RDKit
                   value (MW, TPSA, cLogP, HBD, HBA, Lipinski) of the lexicon structure.
  * `both`       — a literature part and a property part in one question.
  * `none`       — needs no tool (definitions, chit-chat); checked by required words.

Each record: id, kind, question, tools (groups of acceptable tools; each group must be used),
molecule (the drug whose structure a tool should have handled), gold_pmids, check (how the
answer is scored: number / yesno / smiles / keywords) and the filled-in gold values.

    python corpora/eval/make_agent_set.py    # writes corpora/eval/agent_dev.jsonl
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
LIT = [["search_literature", "get_article"]]
PROP = [["predict_properties", "resolve_molecule"]]

# (id, question, retrieval-set id)
LITERATURE = [
    ("lit-01", "Does bromocriptine help women with infertility?", "treats-007"),
    ("lit-02", "What has been reported about propranolol for high blood pressure?", "treats-029"),
    ("lit-03", "is isosorbide dinitrate effective for angina?", "treats-031"),
    ("lit-04", "Can tobramycin treat Pseudomonas infections?", "treats-061"),
    ("lit-05", "nifedipine angina pectoris clinical results", "treats-065"),
    ("lit-06", "Any evidence that doxorubicin causes heart failure?", "causes-016"),
    ("lit-07", "Is methyldopa linked to jaundice?", "causes-021"),
    ("lit-08", "What studies looked at clindamycin against Bacteroides infections?", "treats-070"),
    ("lit-09", "Has chloramphenicol been associated with edema?", "causes-006"),
    ("lit-10", "Find papers on carbamazepine for seizures", "treats-047"),
    ("lit-11", "Was prednisone tried in myasthenia gravis?", "treats-056"),
    ("lit-12", "Does fluorouracil work for keratoses?", "treats-064"),
    ("lit-13", "mazindol weight loss in obese patients - what do trials show?", "treats-063"),
    ("lit-14", "Does oxacillin cause leukopenia?", "causes-022"),
    ("lit-15", "What happens to rDNA copy number in rat liver tumour cells?", "title-004"),
    ("lit-16", "Which eye abnormalities are seen in Patau syndrome?", "title-015"),
    ("lit-17", "Is radiotherapy used as first-line treatment of cervical cancer in elderly women?", "title-011"),
    ("lit-18", "Does endurance training make the heart more oxygen efficient?", "title-002"),
    ("lit-19", "What is known about phentolamine in heart failure?", "treats-076"),
    ("lit-20", "clomipramine for depression: what does the literature say", "treats-050"),
    ("lit-21", "Are there reports of nausea after metrizamide myelography?", "causes-004"),
    ("lit-22", "Has hydroxyurea been tested on experimental tumours?", "treats-008"),
]

# (id, question, drug, check, property)
PROPERTY = [
    ("prop-01", "What's the molecular weight of ibuprofen?", "ibuprofen", "number", "mw"),
    ("prop-02", "Does diazepam get into the brain?", "diazepam", "yesno", "bbb"),
    ("prop-03", "Is caffeine able to cross the blood brain barrier?", "caffeine", "yesno", "bbb"),
    ("prop-04", "How water-soluble is theophylline? Give me a logS.", "theophylline", "number", "logs"),
    ("prop-05", "TPSA of atorvastatin?", "atorvastatin", "number", "tpsa"),
    ("prop-06", "Does metformin pass Lipinski's rule of five?", "metformin", "yesno", "lipinski_pass"),
    ("prop-07", "predict the logD of propranolol at pH 7.4", "propranolol", "number", "logd"),
    ("prop-08", "How many hydrogen bond donors does paracetamol have?", "paracetamol", "number", "hbd"),
    ("prop-09", "Can you give me the SMILES for sildenafil?", "sildenafil", "smiles", None),
    ("prop-10", "Is atenolol BBB permeable?", "atenolol", "yesno", "bbb"),
    ("prop-11", "What is the calculated logP of warfarin?", "warfarin", "number", "clogp"),
    ("prop-12", "will cetirizine penetrate the CNS?", "cetirizine", "yesno", "bbb"),
    ("prop-13", "molecular weight of imatinib in daltons", "imatinib", "number", "mw"),
    ("prop-14", "How soluble is naproxen in water (log mol/L)?", "naproxen", "number", "logs"),
    ("prop-15", "Estimate the aqueous solubility of aspirin.", "aspirin", "number", "logs"),
    ("prop-16", "Does haloperidol cross the blood-brain barrier?", "haloperidol", "yesno", "bbb"),
    ("prop-17", "How many H-bond acceptors are in fluoxetine?", "fluoxetine", "number", "hba"),
    ("prop-18", "logD7.4 of carbamazepine?", "carbamazepine", "number", "logd"),
    ("prop-19", "Is omeprazole drug-like according to Lipinski?", "omeprazole", "yesno", "lipinski_pass"),
    ("prop-20", "What's the structure of loratadine as SMILES?", "loratadine", "smiles", None),
]

# (id, question, retrieval-set id, drug, check, property)
BOTH = [
    ("both-01", "Does bromocriptine cross the blood-brain barrier, and what has it been used for in infertility?",
     "treats-007", "bromocriptine", "yesno", "bbb"),
    ("both-02", "What's the molecular weight of propranolol, and is there evidence it lowers blood pressure?",
     "treats-029", "propranolol", "number", "mw"),
    ("both-03", "Is carbamazepine brain-penetrant, and how well does it control seizures in studies?",
     "treats-047", "carbamazepine", "yesno", "bbb"),
    ("both-04", "Doxorubicin: what is its TPSA, and are there reports of heart failure?", "causes-016", "doxorubicin",
     "number", "tpsa"),
    ("both-05", "Give me nifedipine's logD and what trials found for angina.", "treats-065", "nifedipine",
     "number", "logd"),
    ("both-06", "How soluble is metronidazole, and does it work against Bacteroides?", "treats-066",
     "metronidazole", "number", "logs"),
    ("both-07", "Does clomipramine reach the brain and is it effective in depression according to papers?",
     "treats-050", "clomipramine", "yesno", "bbb"),
    ("both-08", "Is methyldopa Lipinski-compliant, and can it cause cholestasis?", "causes-009", "methyldopa",
     "yesno", "lipinski_pass"),
    ("both-09", "azathioprine: TPSA, and results in experimental arthritis?", "treats-017", "azathioprine",
     "number", "tpsa"),
    ("both-10", "Could ampicillin get into the CNS? Also, has it been used for pelvic inflammatory disease?",
     "treats-013", "ampicillin", "yesno", "bbb"),
    ("both-11", "What's the cLogP of phenytoin and what is reported about it in pregnancy?", "treats-062",
     "phenytoin", "number", "clogp"),
    ("both-12", "Tobramycin: does it cross the BBB, and how does it do against Pseudomonas?", "treats-061",
     "tobramycin", "yesno", "bbb"),
]

# (id, question, groups of words: each group needs one of its alternatives)
NONE = [
    ("none-01", "What does ADMET stand for?", [["absorption"], ["distribution"], ["metabolism"], ["excretion"],
                                                ["toxicity"]]),
    ("none-02", "Explain Lipinski's rule of five in one sentence.", [["500"], ["hydrogen", "h-bond", "donor"]]),
    ("none-03", "What is an IC50?", [["half", "50%", "50 %"], ["inhibit"]]),
    ("none-04", "what's a prodrug", [["inactive", "metaboli", "convert"]]),
    ("none-05", "What does TPSA mean?", [["polar surface area"]]),
    ("none-06", "Difference between an agonist and an antagonist?", [["activat"], ["block", "inhibit", "prevent"]]),
    ("none-07", "Which organ does most CYP450 drug metabolism?", [["liver", "hepat"]]),
    ("none-08", "Define oral bioavailability.", [["fraction", "proportion", "percent", "amount"],
                                                ["systemic", "circulation", "bloodstream", "blood"]]),
    ("none-09", "What is a SMILES string?", [["notation", "line", "text", "string"], ["molecul", "structure"]]),
    ("none-10", "hi! what can you help me with?", [["literature", "pubmed", "articles", "propert", "molecul",
                                                    "drug"]]),
]


def _key(smiles: str) -> str:
    from rdkit import Chem

    return Chem.MolToInchiKey(Chem.MolFromSmiles(smiles))


def _measured() -> dict[str, dict[str, float]]:
    """InChIKey connectivity block -> measured value, per packaged data set."""
    from litmol.predictors.ml.datasets import load_table

    out = {}
    for prop, data in (("logs", "aqsoldb"), ("logd", "logd"), ("bbb", "b3db")):
        table = load_table(data)
        out[prop] = {_key(s)[:14]: float(y) for s, y in zip(table.smiles, table.y, strict=True)}
    return out


def _gold(drug: str, check: str, prop: str | None, measured: dict[str, dict[str, float]]) -> dict:
    from rdkit import Chem

    from litmol.predictors import default_lexicon
    from litmol.predictors.chem.descriptors import compute_descriptors

    entry = default_lexicon().lookup(drug).entry
    if entry is None:
        raise SystemExit(f"{drug!r} is not in the lexicon")
    key = _key(entry.smiles)
    gold: dict = {"molecule": {"name": drug, "inchikey": key, "smiles": entry.smiles}}
    if check == "smiles":
        gold["check"] = {"type": "smiles", "inchikey": key}
        return gold
    if prop in measured and key[:14] in measured[prop]:
        value, source = measured[prop][key[:14]], {"logs": "AqSolDB", "logd": "AZ logD7.4", "bbb": "B3DB"}[prop]
    elif prop in measured:
        raise SystemExit(f"no measured {prop} for {drug}: pick another drug")
    else:
        value, source = compute_descriptors(Chem.MolFromSmiles(entry.smiles))[prop], "RDKit"
    tol = {"mw": 1.0, "tpsa": 2.0, "clogp": 0.3, "hbd": 0, "hba": 0, "logs": 1.0, "logd": 1.0}.get(prop)
    if check == "yesno":
        gold["check"] = {"type": "yesno", "property": prop, "value": bool(value), "source": source}
    else:
        gold["check"] = {"type": "number", "property": prop, "value": value, "tol": tol, "source": source}
    return gold


def main() -> None:
    retrieval = {r["id"]: r for r in map(json.loads, (HERE / "retrieval_dev.jsonl").open())}
    measured = _measured()
    rows = []
    for qid, question, src in LITERATURE:
        rows.append({"id": qid, "kind": "literature", "question": question, "tools": LIT,
                     "gold_pmids": retrieval[src]["gold_pmids"], "from": src, "check": None})
    for qid, question, drug, check, prop in PROPERTY:
        gold = _gold(drug, check, prop, measured)
        rows.append({"id": qid, "kind": "property", "question": question, "tools": PROP, "gold_pmids": [],
                     "from": None} | gold)
    for qid, question, src, drug, check, prop in BOTH:
        gold = _gold(drug, check, prop, measured)
        rows.append({"id": qid, "kind": "both", "question": question, "tools": LIT + PROP,
                     "gold_pmids": retrieval[src]["gold_pmids"], "from": src} | gold)
    for qid, question, words in NONE:
        rows.append({"id": qid, "kind": "none", "question": question, "tools": [], "gold_pmids": [], "from": None,
                     "check": {"type": "keywords", "groups": words}})
    with (HERE / "agent_dev.jsonl").open("w") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} questions to {HERE / 'agent_dev.jsonl'}")


if __name__ == "__main__":
    main()
