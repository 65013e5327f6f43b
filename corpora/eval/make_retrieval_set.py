"""Generate the retrieval evaluation set (deterministic; labelled as generated).

Two kinds of query, both with gold PMIDs from the default corpus:
  * `title`  — hand-written rewrites of sampled article titles (title_rewrites.jsonl, made by
               sample_titles.py + a person); gold = that article.
  * `treats` / `causes` — phrased from MeSH qualifier pairs (drug *therapeutic use* x disease
               *drug therapy*; drug *adverse effects/toxicity/poisoning* x disease *chemically
               induced*); gold = every indexed abstract carrying that pair.
A MeSH pair counts only the gold abstracts that actually name the drug (its full MeSH name)
and a distinctive word of the disease in their title or abstract: indexers read full texts,
so otherwise the key would hold articles no text search could judge relevant (label noise),
and pharmacological-class headings ("Antidepressive Agents") would become queries.
Queries are split by a hash of their id into dev (2/3, for tuning) and test (1/3, reported).

    python corpora/eval/make_retrieval_set.py   # writes retrieval_dev.jsonl, retrieval_test.jsonl
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from pathlib import Path

from litmol.retrieval.corpus import default_corpus_paths
from litmol.retrieval.ingest import collect_records

HERE = Path(__file__).parent
SEED = 7
N_TREATS, N_CAUSES = 80, 40
MAX_GOLD = 8
TREATS_DRUG = {"therapeutic use"}
TREATS_DISEASE = {"drug therapy"}
CAUSES_DRUG = {"adverse effects", "toxicity", "poisoning"}
CAUSES_DISEASE = {"chemically induced"}
NOT_A_DRUG = ("Protocols", "Combined Modality", "Therapy")

TREATS_TEMPLATES = [
    "{drug} for {disease}",
    "does {drug} work in {disease}?",
    "{drug} treatment of {disease}",
    "efficacy of {drug} in patients with {disease}",
    "{disease} therapy with {drug}",
    "clinical results of {drug} in {disease}",
]
CAUSES_TEMPLATES = [
    "{disease} induced by {drug}",
    "can {drug} cause {disease}?",
    "{drug}-associated {disease}",
    "{drug} adverse effect {disease}",
    "{disease} after {drug} exposure",
]


def natural(name: str) -> str:
    """MeSH 'Carcinoma, Hepatocellular' -> 'hepatocellular carcinoma' (acronyms kept)."""
    if ", " in name and name.count(",") == 1:
        head, tail = name.split(", ")
        name = f"{tail} {head}"
    return " ".join(w if w.isupper() or any(c.isdigit() for c in w) else w.lower() for w in name.split())


GENERIC_DISEASE_WORDS = {"neoplasms", "diseases", "disease", "disorders", "syndrome", "infections",
                         "abnormalities", "injuries", "conditions", "neoplasm", "and", "of", "the"}


def mentions(rec, drug: str, disease: str) -> bool:
    """True if the article's own text names the drug and a distinctive word of the disease."""
    text = f"{rec.title} {rec.abstract}".lower()
    if natural(drug).lower() not in text and drug.lower() not in text:
        return False
    words = [w for w in natural(disease).lower().replace(",", " ").split() if w not in GENERIC_DISEASE_WORDS]
    return any(w[:5] in text for w in words) if words else False


def pair_index(records) -> dict[tuple[str, str, str], set[str]]:
    pairs: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for rec in records:
        for drug in rec.mesh:
            dq = set(drug.qualifiers)
            if any(bad in drug.name for bad in NOT_A_DRUG):
                continue
            for disease in rec.mesh:
                if disease is drug:
                    continue
                sq = set(disease.qualifiers)
                if not mentions(rec, drug.name, disease.name):
                    continue
                if dq & TREATS_DRUG and sq & TREATS_DISEASE:
                    pairs[("treats", drug.name, disease.name)].add(rec.pmid)
                if dq & CAUSES_DRUG and sq & CAUSES_DISEASE:
                    pairs[("causes", drug.name, disease.name)].add(rec.pmid)
    return pairs


def split_of(qid: str) -> str:
    return "test" if int(hashlib.sha256(qid.encode()).hexdigest(), 16) % 3 == 0 else "dev"


def main() -> None:
    records, _ = collect_records(default_corpus_paths())
    indexed = {r.pmid for r in records}
    rng = random.Random(SEED)
    queries = []
    for i, row in enumerate(map(json.loads, (HERE / "title_rewrites.jsonl").read_text().splitlines())):
        if row["pmid"] in indexed:
            queries.append({"id": f"title-{i:03d}", "kind": "title", "query": row["query"],
                            "gold_pmids": [row["pmid"]], "source": "hand-written rewrite of the title"})
    pairs = pair_index(records)
    for relation, n, templates in (("treats", N_TREATS, TREATS_TEMPLATES), ("causes", N_CAUSES, CAUSES_TEMPLATES)):
        keys = sorted(k for k, v in pairs.items() if k[0] == relation and len(v) <= MAX_GOLD)
        for j, key in enumerate(rng.sample(keys, n)):
            _, drug, disease = key
            template = templates[j % len(templates)]
            queries.append({
                "id": f"{relation}-{j:03d}", "kind": relation,
                "query": template.format(drug=natural(drug), disease=natural(disease)),
                "gold_pmids": sorted(pairs[key]), "source": f"MeSH pair: {drug} x {disease}",
            })
    for split in ("dev", "test"):
        rows = [q | {"generated": True} for q in queries if split_of(q["id"]) == split]
        with (HERE / f"retrieval_{split}.jsonl").open("w") as fh:
            for row in rows:
                fh.write(json.dumps(row) + "\n")
        kinds = defaultdict(int)
        for row in rows:
            kinds[row["kind"]] += 1
        print(split, len(rows), dict(kinds))


if __name__ == "__main__":
    main()
