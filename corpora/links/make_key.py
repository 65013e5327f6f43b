"""Generate the drug–disease silver key, its article split and the miner's MeSH vocabulary.

Deterministic; everything it writes is labelled as generated from MEDLINE indexing.

  * split.tsv  — every article of pubmed20n0014 with an abstract, assigned to train (60 %),
                 dev (20 %) or test (20 %) by a seeded hash of its PMID.
  * key.jsonl  — the silver key (ARCHITECTURE.md): in one article, a drug heading with
                 *therapeutic use* and a disease heading with *drug therapy* is a `treats`
                 pair; a drug with *adverse effects / toxicity / poisoning* and a disease with
                 *chemically induced* is a `causes` pair. A "drug" must be a chemical heading
                 (somewhere in the file it carries a chemical-only qualifier such as
                 *pharmacology* or *administration & dosage*), so procedures such as
                 "Radiotherapy / adverse effects" are not drugs; chemotherapy protocols
                 ("Antineoplastic Combined Chemotherapy Protocols") are left out too.
  * vocab.tsv  — the concept vocabulary the miner may use: MeSH descriptors of **train-split**
                 articles and of the (mostly unindexed) pubmed21n1298 file only, typed
                 disease / drug / other by the qualifiers they carry there. Dev and test MeSH
                 never reach it (the leakage rule of issue 7; tests/retrieval/test_links.py).

    python corpora/links/make_key.py
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from litmol.links.indexing import (
    CAUSES_DISEASE,
    CAUSES_DRUG,
    CHEMICAL_QUALIFIERS,
    NOT_A_DRUG,
    TREATS_DISEASE,
    TREATS_DRUG,
)
from litmol.retrieval.corpus import default_corpus_paths
from litmol.retrieval.ingest import collect_records

HERE = Path(__file__).parent
SEED = "litmol-links-7"
# the treats / causes rule and the chemical-only qualifiers are the product's indexing source's (links/indexing.py)
# ... of the chemical-only qualifiers, the ones that mark a drug rather than a receptor, enzyme or metabolite
DRUG_QUALIFIERS = {"therapeutic use", "administration & dosage", "toxicity", "poisoning", "pharmacokinetics",
                   "adverse effects"}
# ... and only on diseases (category C)
# (qualifiers diseases share with anatomy, organisms, places or procedures, such as *pathology*,
# *epidemiology* or *mortality*, are not counted)
DISEASE_QUALIFIERS = {"drug therapy", "chemically induced", "complications", "diagnosis", "etiology",
                      "prevention & control", "therapy", "congenital", "radiotherapy", "diet therapy",
                      "rehabilitation", "nursing"}
# MEDLINE check tags and other headings that say nothing about the topic
CHECK_TAGS = {"Humans", "Animals", "Male", "Female", "Adult", "Middle Aged", "Aged", "Aged, 80 and over", "Child",
              "Child, Preschool", "Infant", "Infant, Newborn", "Adolescent", "Pregnancy", "Rats", "Mice", "Dogs",
              "Cats", "Rabbits", "Cattle", "Swine", "Sheep", "Guinea Pigs", "Cricetinae", "Time Factors",
              "Kinetics", "Structure-Activity Relationship", "Dose-Response Relationship, Drug", "In Vitro Techniques",
              "Methods", "Follow-Up Studies", "Retrospective Studies", "Prospective Studies", "Clinical Trials as Topic",
              "Double-Blind Method", "Placebos", "Evaluation Studies as Topic", "Research", "Age Factors",
              "Sex Factors", "Species Specificity", "Models, Biological", "Mathematics", "Statistics as Topic",
              "Drug Evaluation", "Drug Therapy, Combination", "English Abstract", "Comparative Study", "Case Reports",
              "Chemistry", "Cells, Cultured", "Culture Media", "Temperature", "Body Weight", "Macaca mulatta",
              "Haplorhini", "Chickens", "Drug Interactions", "Hydrogen-Ion Concentration", "Injections, Intravenous",
              "Injections", "Administration, Oral", "Infusions, Parenteral", "Injections, Intramuscular"}
# Head words and endings of disease names, for descriptors whose train-split qualifiers say
# little (e.g. only *pathology*): "Carcinoma, Hepatocellular", "Hepatitis", "Anemia"
DISEASE_NAME = re.compile(r"(?i)^(?!.*(?:stasis|tosis|esis|gnosis)\b).*(?:\b(?:carcinoma|neoplasms?|diseases?|syndrome|"
                          r"infections?|disorders?|insufficiency|failure|deficiency|poisoning|injur(?:y|ies)|"
                          r"abnormalities|fever|pain|ulcer|hernia|edema|shock|sarcoma|lymphoma|leukemia|"
                          r"arrhythmias?|fibrosis|cirrhosis)\b|(?:itis|emia|oma|pathy|osis|plasia|algia|uria|"
                          r"trophy|penia|rrhea|rrhage)\b)")
# subtypes that make a disease heading a procedure or a pharmacological state
PROCEDURE_SUBTYPES = {"Induced", "Controlled", "Chemical", "Artificial"}
SPLITS = (("train", 6), ("dev", 8), ("test", 10))  # cumulative tenths


def split_of(pmid: str) -> str:
    """train / dev / test for an article: 60 / 20 / 20 by a seeded hash of its PMID."""
    tenth = int(hashlib.sha256(f"{SEED}:{pmid}".encode()).hexdigest(), 16) % 10
    return next(name for name, upper in SPLITS if tenth < upper)


def qualifier_profile(records) -> dict[str, Counter]:
    """For each descriptor name, how often each qualifier is attached to it."""
    profile: dict[str, Counter] = defaultdict(Counter)
    for rec in records:
        for heading in rec.mesh:
            profile[heading.name].update(heading.qualifiers)
            profile[heading.name]["__n__"] += 1
    return profile


def is_chemical(counts: Counter) -> bool:
    return any(counts[q] for q in CHEMICAL_QUALIFIERS)


GENERIC_DISEASE_WORDS = {"neoplasms", "diseases", "disease", "disorders", "syndrome", "infections", "abnormalities",
                         "injuries", "conditions", "neoplasm", "and", "of", "the", "experimental", "acute", "chronic"}


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def in_text(rec, drug: str, disease: str) -> bool:
    """Does the title or abstract itself name the pair? The drug by its MeSH name (either word
    order; plural or singular), the disease by one of its distinctive words (first 5 letters).
    Indexers read full texts and index drug classes, so many key pairs are not stated in the
    abstract that the miner reads; this flag lets both key versions be scored."""
    text = f" {_squash(rec.title + ' ' + rec.abstract)} "
    parts = drug.split(", ")
    names = {_squash(drug), _squash(" ".join(reversed(parts)))}
    names |= {n[:-1] for n in names if n.endswith("s")}
    if not any(f" {n}" in text for n in names if n):
        return False
    words = [w for w in _squash(disease).split() if w not in GENERIC_DISEASE_WORDS]
    return any(f" {w[:5]}" in text for w in words) if words else False


def key_pairs(rec, profile: dict[str, Counter]) -> list[dict]:
    pairs, seen = [], set()
    for drug in rec.mesh:
        if any(bad in drug.name for bad in NOT_A_DRUG) or not is_chemical(profile[drug.name]):
            continue
        dq = set(drug.qualifiers)
        for disease in rec.mesh:
            if disease is drug:
                continue
            sq = set(disease.qualifiers)
            for relation, dset, sset in (("treats", TREATS_DRUG, TREATS_DISEASE), ("causes", CAUSES_DRUG, CAUSES_DISEASE)):
                if dq & dset and sq & sset and (relation, drug.name, disease.name) not in seen:
                    seen.add((relation, drug.name, disease.name))
                    pairs.append({"pmid": rec.pmid, "relation": relation, "drug": drug.name, "drug_ui": drug.ui,
                                  "disease": disease.name, "disease_ui": disease.ui,
                                  "in_text": in_text(rec, drug.name, disease.name)})
    return pairs


# Headings too general to name a disease in a link ("Disease", "Syndrome")
GENERIC = {"Disease", "Syndrome", "Acute Disease", "Chronic Disease", "Diagnosis", "Prognosis", "Recurrence",
           "Disease Models, Animal", "Disease Progression", "Disease Susceptibility", "Signs and Symptoms"}


def concept_type(name: str, counts: Counter) -> str:
    """disease, drug, chemical (receptors, enzymes, metabolites) or other, from the qualifiers
    a descriptor carries; a disease must carry a disease-only qualifier in a fifth of its uses."""
    if name in GENERIC:
        return "other"
    disease = sum(counts[q] for q in DISEASE_QUALIFIERS)
    chemical = sum(counts[q] for q in CHEMICAL_QUALIFIERS)
    if disease > chemical and disease >= 0.2 * counts["__n__"]:
        return "disease"
    if chemical:
        return "drug" if any(counts[q] for q in DRUG_QUALIFIERS) else "chemical"
    return "disease" if DISEASE_NAME.search(name.split(", ")[0]) else "other"


def main() -> None:
    old, new = default_corpus_paths()
    records, _ = collect_records([old])
    recent, _ = collect_records([new])
    split = {rec.pmid: split_of(rec.pmid) for rec in records}
    profile = qualifier_profile(records)  # the key may use all indexing: it is the answer, not an input

    with (HERE / "split.tsv").open("w") as fh:
        fh.write("pmid\tsplit\n")
        for pmid in sorted(split, key=int):
            fh.write(f"{pmid}\t{split[pmid]}\n")

    counts: Counter = Counter()
    with (HERE / "key.jsonl").open("w") as fh:
        for rec in sorted(records, key=lambda r: int(r.pmid)):
            for pair in key_pairs(rec, profile):
                fh.write(json.dumps({"split": split[rec.pmid], **pair, "generated": True}) + "\n")
                counts[(split[rec.pmid], pair["relation"], "in_text" if pair["in_text"] else "not_in_text")] += 1

    # The miner's vocabulary: train-split and unindexed-file headings only.
    allowed = [rec for rec in records if split[rec.pmid] == "train"] + recent
    train_profile = qualifier_profile(allowed)
    ui_of = {h.name: h.ui for rec in allowed for h in rec.mesh}
    n_docs = len(allowed)
    kinds: Counter = Counter()
    with (HERE / "vocab.tsv").open("w") as fh:
        fh.write("ui\tname\ttype\tn_articles\n")
        types = {name: concept_type(name, counts) for name, counts in train_profile.items()}
        for name in sorted(train_profile):
            n = train_profile[name]["__n__"]
            if name in CHECK_TAGS or n > 0.03 * n_docs:
                continue
            kind = types[name]
            head, *subtype = name.split(", ")
            if kind == "other" and subtype and types.get(head) == "disease" and head not in GENERIC \
                    and subtype[-1] not in PROCEDURE_SUBTYPES:
                kind = "disease"  # a subtype seen too rarely to type: "Diabetes Mellitus, Type 2"
            kinds[kind] += 1
            fh.write(f"{ui_of[name]}\t{name}\t{kind}\t{n}\n")

    print("articles", Counter(split.values()))
    print("key pairs", dict(sorted(counts.items())))
    print("vocabulary", dict(kinds))


if __name__ == "__main__":
    main()
