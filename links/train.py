"""Train the relation classifier on train-split articles, tune it on dev, report on test.

Labels come from the silver key only for train articles; dev picks the regularisation and
the per-relation thresholds; test is scored once with the chosen model. Text comes from the
default corpus file pubmed20n0014 (titles and abstracts only).

    litmol links train            # rewrites links/relation_model.json
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Any

from .key import GoldPair, Matcher, evaluate, gold_pairs, labels_for, load_key, load_split
from .relations import RELATIONS, Candidate, RelationModel, candidates, fit
from .tagger import Tagger
from .vocab import Vocabulary, default_vocabulary

logger = logging.getLogger(__name__)
KEY_CORPUS = "pubmed20n0014.xml.gz"


def key_corpus_records() -> list[Any]:
    """The records of the key's corpus file as parsed, MeSH included (evaluation side only)."""
    from litmol.retrieval.corpus import default_corpus_paths
    from litmol.retrieval.ingest import collect_records

    path = next(p for p in default_corpus_paths() if p.name == KEY_CORPUS)
    records, _ = collect_records([path], workers=1)
    return records


def key_articles(records: list[Any] | None = None) -> list[Any]:
    """The records of the key's corpus file (titles, abstracts; MeSH is dropped here, in place
    when `records` already holds them)."""
    records = key_corpus_records() if records is None else records
    for rec in records:
        rec.mesh = []  # the miner's side never sees indexing
    return records


def article_candidates(records: list[Any], vocab: Vocabulary, progress: bool = True) -> dict[str, list[Candidate]]:
    from tqdm import tqdm

    tagger = Tagger(vocab)
    approved = vocab.approved_ids()
    return {rec.pmid: candidates(rec.title, rec.abstract, tagger.tag, approved)
            for rec in tqdm(records, desc="tagging", unit="abstract", disable=not progress)}


def predictions(cands: dict[str, list[Candidate]], model: RelationModel) -> list[tuple[str, str, str, str]]:
    out = []
    for pmid, items in cands.items():
        for c in model.score(items):
            label = model.label(c.probs)
            if label != "other":
                out.append((pmid, label, c.drug, c.disease))
    return out


def tune_thresholds(cands: dict[str, list[Candidate]], gold: list[GoldPair], model: RelationModel,
                    matcher: Matcher) -> dict[str, float]:
    """Per relation, the threshold with the best article-level F1 on these (dev) articles,
    against the key pairs their abstracts name (a key pair outside that scope is skipped)."""
    gold_by_pmid: dict[str, list[GoldPair]] = defaultdict(list)
    outside_by_pmid: dict[str, list[GoldPair]] = defaultdict(list)
    for g in gold:
        (gold_by_pmid if g.in_text else outside_by_pmid)[g.pmid].append(g)
    best = {}
    for rel in RELATIONS:
        scored = []
        for pmid, items in cands.items():
            for c in model.score(items):
                if rel in labels_for(pmid, c.drug, c.disease, outside_by_pmid, matcher):
                    continue
                scored.append((c.probs[rel], rel in labels_for(pmid, c.drug, c.disease, gold_by_pmid, matcher)))
        n_gold = sum(g.relation == rel and g.in_text for g in gold)
        scored.sort(reverse=True)
        tp, best_f, best_t = 0, -1.0, 0.5
        for k, (p, hit) in enumerate(scored, 1):
            tp += hit
            f = 2 * tp / (k + n_gold) if n_gold else 0.0
            if f > best_f and p > 0.02:
                best_f, best_t = f, p
        best[rel] = round(best_t - 1e-9, 6)
    return best


def train(cs: tuple[float, ...] = (0.03, 0.1, 0.3), progress: bool = True,
          label_modes: tuple[str, ...] = ("strict", "relaxed")) -> tuple[RelationModel, dict]:
    """Fit on train for every (C, label mode) pair, keep the one with the best dev F1 (treats + causes).
    Label modes: `strict`, a candidate is positive when it is the key's pair; `relaxed`, a MeSH parent
    or child of the key's drug or disease counts too (more positives, noisier)."""
    t0 = time.perf_counter()
    vocab = default_vocabulary()
    matcher = Matcher(vocab)
    relaxed = Matcher(vocab, relaxed=True)
    split = load_split()
    records = [r for r in key_articles() if r.pmid in split]
    cands = article_candidates(records, vocab, progress)
    by_split: dict[str, dict[str, list[Candidate]]] = defaultdict(dict)
    for pmid, items in cands.items():
        by_split[split[pmid]][pmid] = items
    gold = {name: gold_pairs(load_key(name)) for name in ("train", "dev", "test")}
    gold_by_pmid: dict[str, list[GoldPair]] = defaultdict(list)
    for g in gold["train"]:
        gold_by_pmid[g.pmid].append(g)
    examples = [c.features for items in by_split["train"].values() for c in items]
    trials, best, positives = [], -1.0, {}
    for mode in label_modes:
        label_matcher = relaxed if mode == "relaxed" else matcher
        labels = [labels_for(pmid, c.drug, c.disease, gold_by_pmid, label_matcher)
                  for pmid, items in by_split["train"].items() for c in items]
        positives[mode] = {rel: sum(rel in lab for lab in labels) for rel in RELATIONS}
        logger.info("%d training candidates, %s labels (%d treats, %d causes)", len(examples), mode,
                    *positives[mode].values())
        for c in cs:
            model = RelationModel(fit(examples, labels, c), {r: 0.5 for r in RELATIONS}, {})
            model.thresholds = tune_thresholds(by_split["dev"], gold["dev"], model, matcher)
            dev = evaluate(predictions(by_split["dev"], model), gold["dev"], matcher, in_text_only=True)
            score = sum(dev["article"][r]["f1"] for r in RELATIONS)
            trials.append({"C": c, "labels": mode, "thresholds": model.thresholds, "dev": dev["article"],
                           "score": round(score, 4)})
            logger.info("C=%s %s labels: dev F1 treats %.3f causes %.3f", c, mode, dev["article"]["treats"]["f1"],
                        dev["article"]["causes"]["f1"])
            if score > best:
                best, chosen = score, model
                chosen.meta = {"C": c, "label_mode": mode}
    test_pred = predictions(by_split["test"], chosen)
    test = {"full_key": evaluate(test_pred, gold["test"], matcher),
            "in_text_key": evaluate(test_pred, gold["test"], matcher, in_text_only=True),
            "in_text_key_relaxed": evaluate(test_pred, gold["test"], relaxed, in_text_only=True)}
    chosen.meta.update({
        "trained_on": f"{len(by_split['train'])} train-split articles of {KEY_CORPUS}, {len(examples)} candidate pairs",
        "labels": "silver key corpora/links/key.jsonl (MeSH qualifier pairs), train split only",
        "tuned_on": f"{len(by_split['dev'])} dev-split articles (C and per-relation thresholds, article-pair F1)",
        "test_article_f1_in_text_key": {r: test["in_text_key"]["article"][r]["f1"] for r in RELATIONS},
        "reproduce": "litmol links train",
    })
    report = {"training_candidates": len(examples), "training_positives": positives[chosen.meta["label_mode"]],
              "trials": trials, "test": test,
              "seconds": round(time.perf_counter() - t0, 1)}
    return chosen, report
