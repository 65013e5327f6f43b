"""Does a fine-tuned transformer relation classifier beat the logistic one? (issue 7)

The issue suggests a small transformer fine-tuned on training-split articles. This bench
fine-tunes the packaged all-MiniLM-L6-v2 (6 layers, 22 M parameters, offline) as a two-label
classifier (treats, causes) on every train-split candidate pair whose drug and disease share a
sentence, with the mentions masked as @DRUG$ / @DISEASE$ (the BioBERT relation-extraction
input); labels are the silver key's, MeSH parent/child counting, as for the logistic model.
On dev and test the transformer's probability replaces (mix 1) or is averaged with (mix 0.5)
the logistic model's for those pairs; the others keep the logistic score; thresholds are tuned
on dev as in `litmol links train`. Scored on the in-text key, article-pair level.

    python bench/links_transformer.py [--epochs 3]      # about 15 min on 2 CPU cores
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402

MAX_LEN, BATCH = 96, 32


def masked(evidence: str, drug_texts: set[str], disease_texts: set[str]) -> str:
    for t in sorted(drug_texts, key=len, reverse=True):
        evidence = evidence.replace(t, "@DRUG$")
    for t in sorted(disease_texts, key=len, reverse=True):
        evidence = evidence.replace(t, "@DISEASE$")
    return evidence


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()

    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from litmol.links.key import Matcher, evaluate, gold_pairs, labels_for, load_key, load_split
    from litmol.links.relations import RELATIONS, RelationModel, candidates
    from litmol.links.tagger import Tagger
    from litmol.links.train import key_articles, predictions, tune_thresholds
    from litmol.links.vocab import default_vocabulary
    from litmol.retrieval.embed import resolve_model_path

    torch.manual_seed(0)
    random.seed(0)
    vocab = default_vocabulary()
    tagger, approved = Tagger(vocab), vocab.approved_ids()
    matcher, relaxed = Matcher(vocab), Matcher(vocab, relaxed=True)
    split = load_split()
    gold = {s: gold_pairs(load_key(s)) for s in ("train", "dev", "test")}
    gold_by = {s: defaultdict(list) for s in gold}
    for s, gs in gold.items():
        for g in gs:
            gold_by[s][g.pmid].append(g)
    logistic = RelationModel.load()
    cands: dict[str, dict] = {s: {} for s in gold}
    rows: dict[str, list] = {s: [] for s in gold}
    for rec in key_articles():
        name = split.get(rec.pmid)
        if name is None:
            continue
        surface: dict[str, set[str]] = defaultdict(set)

        def tag(text: str, surface=surface) -> list:
            mentions = tagger.tag(text)
            for m in mentions:
                surface[m.concept].add(m.text)
            return mentions

        cs = logistic.score(candidates(rec.title, rec.abstract, tag, approved))
        cands[name][rec.pmid] = cs
        for c in cs:
            if c.features.get("no_shared_sentence"):
                continue
            labels = labels_for(rec.pmid, c.drug, c.disease, gold_by[name], relaxed if name == "train" else matcher)
            rows[name].append((masked(c.evidence, surface[c.drug], surface[c.disease]),
                               [float(r in labels) for r in RELATIONS], c))

    path = resolve_model_path("all-MiniLM-L6-v2")
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2,
                                                               problem_type="multi_label_classification")
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
    train = rows["train"]
    steps = args.epochs * math.ceil(len(train) / BATCH)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps))
    pos_weight = torch.tensor([3.0, 6.0])  # positives are rare
    t0 = time.perf_counter()
    from tqdm import tqdm

    with tqdm(total=steps, desc="fine-tuning", unit="batch") as bar:
        for _ in range(args.epochs):
            random.shuffle(train)
            model.train()
            for i in range(0, len(train), BATCH):
                batch = train[i:i + BATCH]
                enc = tok([x[0] for x in batch], truncation=True, max_length=MAX_LEN, padding=True, return_tensors="pt")
                loss = torch.nn.functional.binary_cross_entropy_with_logits(
                    model(**enc).logits, torch.tensor([x[1] for x in batch]), pos_weight=pos_weight)
                loss.backward()
                opt.step()
                sched.step()
                opt.zero_grad()
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}")
    train_s = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        for name in ("dev", "test"):
            for i in range(0, len(rows[name]), 64):
                chunk = rows[name][i:i + 64]
                enc = tok([x[0] for x in chunk], truncation=True, max_length=MAX_LEN, padding=True, return_tensors="pt")
                for (_, _, c), p in zip(chunk, torch.sigmoid(model(**enc).logits).numpy(), strict=True):
                    c.transformer = dict(zip(RELATIONS, map(float, p), strict=True))

    results = []
    for mix in (0.0, 0.5, 1.0):
        class Mixed(RelationModel):
            def score(self, cs, mix=mix):
                for c in cs:
                    c.probs = logistic.probabilities(c.features)
                    if hasattr(c, "transformer"):
                        c.probs = {r: (1 - mix) * c.probs[r] + mix * c.transformer[r] for r in RELATIONS}
                return cs

        m = Mixed(logistic.weights, dict(logistic.thresholds), {})
        m.thresholds = tune_thresholds(cands["dev"], gold["dev"], m, matcher)
        for name in ("dev", "test"):
            res = evaluate(predictions(cands[name], m), gold[name], matcher, in_text_only=True)["article"]
            for rel in RELATIONS:
                results.append({"mix": mix, "split": name, "relation": rel, "P": res[rel]["precision"],
                                "R": res[rel]["recall"], "F1": res[rel]["f1"]})
    print("mix = share of the transformer's probability (0 = logistic only); in-text key, article level")
    print(table(results, ["mix", "split", "relation", "P", "R", "F1"]))
    out = {"results": results, "train_pairs": len(train), "epochs": args.epochs, "train_seconds": round(train_s, 1),
           "positives": {r: int(np.sum([x[1][i] for x in train])) for i, r in enumerate(RELATIONS)}}
    print(f"fine-tuned on {len(train)} pairs in {train_s:.0f} s; saved {save('links_transformer', out)}")


if __name__ == "__main__":
    main()
