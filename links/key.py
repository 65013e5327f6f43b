"""The silver answer key (corpora/links/key.jsonl), the article split, and P/R/F1 against them.

This module is the evaluation side: the miner (tagger, relations, table) never imports it
for dev or test articles, and the key file holds only the pairs, not the indexing.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .relations import RELATIONS
from .vocab import LINKS_DIR, Vocabulary, natural, normalize

KEY_FILE = LINKS_DIR / "key.jsonl"
SPLIT_FILE = LINKS_DIR / "split.tsv"


def load_split(path: Path = SPLIT_FILE) -> dict[str, str]:
    with path.open() as fh:
        return {row["pmid"]: row["split"] for row in csv.DictReader(fh, delimiter="\t")}


def load_key(split: str | None = None, path: Path = KEY_FILE) -> list[dict]:
    with path.open() as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [r for r in rows if split is None or r["split"] == split]


@dataclass(frozen=True)
class GoldPair:
    pmid: str
    relation: str
    drug_ui: str
    drug: str
    disease_ui: str
    disease: str
    in_text: bool = True


def gold_pairs(rows: list[dict]) -> list[GoldPair]:
    return [GoldPair(r["pmid"], r["relation"], r["drug_ui"], r["drug"], r["disease_ui"], r["disease"],
                     bool(r.get("in_text", True))) for r in rows]


class Matcher:
    """Does a mined concept id denote a key descriptor? Same MeSH UI, or a surface form of the
    concept equals the descriptor's name (for lexicon drugs that are not in the vocabulary)."""

    def __init__(self, vocab: Vocabulary, relaxed: bool = False) -> None:
        self.vocab = vocab
        self.relaxed = relaxed
        self._cache: dict[tuple[str, str, str], bool] = {}

    def same(self, cid: str, ui: str, name: str) -> bool:
        key = (cid, ui, name)
        if key not in self._cache:
            concept = self.vocab.concepts.get(cid)
            hit = cid == ui or bool(concept and (normalize(name) in concept.forms
                                                 or normalize(natural(name)) in concept.forms))
            if not hit and self.relaxed and concept is not None:
                hit = _broader_or_narrower(concept.name, name)
            self._cache[key] = hit
        return self._cache[key]


_GENERIC = {"disease", "syndrome", "disorder", "diseases", "disorders", "infection"}


def _broader_or_narrower(a: str, b: str) -> bool:
    """Relaxed match: one name's words contain the other's ("Arthritis" and "Arthritis,
    Experimental"; "Anxiety" and "Anxiety Disorders"), as a MeSH parent and child usually do."""
    wa, wb = set(normalize(a)), set(normalize(b))
    if not wa or not wb or wa <= {normalize(g)[0] for g in _GENERIC} or wb <= {normalize(g)[0] for g in _GENERIC}:
        return False
    return wa <= wb or wb <= wa


def labels_for(pmid: str, drug: str, disease: str, gold_by_pmid: dict[str, list[GoldPair]], matcher: Matcher) -> set[str]:
    return {g.relation for g in gold_by_pmid.get(pmid, ())
            if matcher.same(drug, g.drug_ui, g.drug) and matcher.same(disease, g.disease_ui, g.disease)}


def _prf(tp_pred: int, n_pred: int, tp_gold: int, n_gold: int) -> dict[str, float | int]:
    p = tp_pred / n_pred if n_pred else 0.0
    r = tp_gold / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "predicted": n_pred, "gold": n_gold,
            "true_positive": tp_pred}


def evaluate(predicted: list[tuple[str, str, str, str]], gold: list[GoldPair], matcher: Matcher,
             in_text_only: bool = False) -> dict:
    """P/R/F1 per relation at the article-pair level and at the corpus level.

    `predicted`: (pmid, relation, drug concept, disease concept) for the evaluated articles.
    Article level: a predicted pair is right if the key holds it for that article. Corpus
    level: pairs are pooled over all evaluated articles first (one link per drug–disease).
    `in_text_only`: score against the key pairs whose abstract names both (the `in_text`
    flag); a prediction of a key pair outside that scope counts neither way.
    """
    if in_text_only:
        outside = [g for g in gold if not g.in_text]
        gold = [g for g in gold if g.in_text]
        out_by_pmid: dict[str, list[GoldPair]] = defaultdict(list)
        for g in outside:
            out_by_pmid[g.pmid].append(g)
        predicted = [x for x in predicted if not any(
            g.relation == x[1] and matcher.same(x[2], g.drug_ui, g.drug) and matcher.same(x[3], g.disease_ui, g.disease)
            for g in out_by_pmid.get(x[0], ()))]
    gold_by_pmid: dict[str, list[GoldPair]] = defaultdict(list)
    for g in gold:
        gold_by_pmid[g.pmid].append(g)
    out: dict[str, dict] = {"article": {}, "corpus": {}}
    for rel in RELATIONS:
        preds = {(p, d, s) for p, r, d, s in predicted if r == rel}
        golds = [g for g in gold if g.relation == rel]
        hit_pred = {x for x in preds if any(g.relation == rel and matcher.same(x[1], g.drug_ui, g.drug)
                                            and matcher.same(x[2], g.disease_ui, g.disease) for g in gold_by_pmid[x[0]])}
        preds_by_pmid: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for p, d, s in preds:
            preds_by_pmid[p].append((d, s))
        hit_gold = {g for g in golds if any(matcher.same(d, g.drug_ui, g.drug) and matcher.same(s, g.disease_ui, g.disease)
                                            for d, s in preds_by_pmid[g.pmid])}
        out["article"][rel] = _prf(len(hit_pred), len(preds), len(hit_gold), len(golds))
        pooled = {(d, s) for _, d, s in preds}
        pooled_gold = {(g.drug_ui, g.drug, g.disease_ui, g.disease) for g in golds}
        hit_pooled = {x for x in pooled if any(matcher.same(x[0], gu, gn) and matcher.same(x[1], su, sn)
                                               for gu, gn, su, sn in pooled_gold)}
        hit_pooled_gold = {g for g in pooled_gold if any(matcher.same(d, g[0], g[1]) and matcher.same(s, g[2], g[3])
                                                         for d, s in pooled)}
        out["corpus"][rel] = _prf(len(hit_pooled), len(pooled), len(hit_pooled_gold), len(pooled_gold))
    return out
