"""Relation scoring for drug–disease pairs co-mentioned in one article.

Every (drug, disease) pair of tagged concepts in a title + abstract is a candidate. Its
features are sentence-level cues (the words between and around the two mentions where they
share a sentence, their order, the patterns "X-induced Y" or "Y treated with X" that those
words spell), where each is mentioned (title, how often, the article's main drug or disease)
and abstract-level cue words. Two logistic regressions trained on train-split articles with
the silver key (`litmol links train`) give P(treats) and P(causes); a pair is `treats` or
`causes` above the threshold tuned on dev, `other` below both.

The model is plain JSON (feature -> weights), so scoring needs no scikit-learn and no pickle.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .tagger import Mention, sentence_spans

MODEL_FILE = Path(__file__).with_name("relation_model.json")
RELATIONS = ("treats", "causes")
DRUG_TYPES = ("drug", "chemical")
_WORD = re.compile(r"[a-z][a-z\-]+")
DOC_CUES = {
    "treat": r"\btreat", "therap": r"therap", "effective": r"\beffectiv|\befficac", "trial": r"\btrial|randomi[sz]",
    "improve": r"\bimprov|\bremission|\brespon", "toxic": r"toxic", "adverse": r"adverse|side[- ]effect",
    "induced": r"induced|\bcaused\b|associated with", "poison": r"poison|overdos|intoxicat",
    "carcinogen": r"carcinogen|tumou?rigen", "animal": r"\brats?\b|\bmice\b|\bdogs?\b|\brabbits?\b",
}
_DOC_CUES = {name: re.compile(p) for name, p in DOC_CUES.items()}


def _stem(word: str) -> str:
    return word[:7]


@dataclass
class Candidate:
    """One co-mentioned (drug, disease) pair in one article."""

    drug: str
    disease: str
    features: dict[str, float]
    evidence: str  # the best sentence holding both, or the title
    probs: dict[str, float] = field(default_factory=dict)


def _window(text: str, start: int, end: int) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text[start:end].lower())]


def _pair_features(text: str, sentences: list[tuple[int, int]], dm: list[Mention], sm: list[Mention],
                   title_end: int) -> tuple[dict[str, float], str]:
    f: dict[str, float] = {"bias": 1.0}
    f["drug_in_title"] = float(any(m.start < title_end for m in dm))
    f["disease_in_title"] = float(any(m.start < title_end for m in sm))
    f["both_in_title"] = f["drug_in_title"] * f["disease_in_title"]
    f["log_drug_mentions"] = math.log1p(len(dm))
    f["log_disease_mentions"] = math.log1p(len(sm))
    f["abbreviation"] = float(any(m.via == "abbreviation" for m in dm + sm))
    shared = sorted({m.sentence for m in dm} & {m.sentence for m in sm})
    f["log_shared_sentences"] = math.log1p(len(shared))
    f["no_shared_sentence"] = float(not shared)
    evidence = ""
    best_gap = None
    for s in shared:
        ds = [m for m in dm if m.sentence == s]
        ss = [m for m in sm if m.sentence == s]
        d, d_s = min(((a, b) for a in ds for b in ss), key=lambda p: abs(p[0].start - p[1].start))
        first, second = (d, d_s) if d.start < d_s.start else (d_s, d)
        order = "drug_first" if first is d else "disease_first"
        gap = max(0, second.start - first.end)
        between = _window(text, first.end, second.start)
        left = _window(text, max(sentences[s][0], first.start - 40), first.start)[-2:]
        right = _window(text, second.end, min(sentences[s][1], second.end + 40))[:2]
        f[f"order={order}"] = 1.0
        if len(between) <= 12:
            for w in between:
                f[f"{order}:between={w}"] = 1.0
            for a, b in zip(between, between[1:], strict=False):
                f[f"{order}:between2={a}_{b}"] = 1.0
            if not between:
                f[f"{order}:adjacent"] = 1.0
        else:
            f["far_in_sentence"] = 1.0
        for w in left:
            f[f"left={w}"] = 1.0
        for w in right:
            f[f"right={w}"] = 1.0
        hyphen = text[first.end:second.start].lstrip()
        if hyphen.startswith("-"):
            f[f"{order}:hyphen={_stem(hyphen[1:].split()[0].lower()) if hyphen[1:].split() else ''}"] = 1.0
        for w in sorted(set(_window(text, *sentences[s]))):  # a fixed order: the same float sums in every process
            f[f"sentence={w}"] = 0.5
        if s == 0 and title_end:
            f["shared_in_title_sentence"] = 1.0
        if best_gap is None or gap < best_gap:
            best_gap, evidence = gap, text[sentences[s][0]:sentences[s][1]].strip()
    if best_gap is not None:
        f["log_gap"] = math.log1p(best_gap)
    if not evidence:
        # no shared sentence: the sentence of the disease's first mention stands as evidence
        s = sm[0].sentence
        evidence = text[sentences[s][0]:sentences[s][1]].strip()
    return f, evidence


def _tree_branches(cid: str) -> tuple[str, ...]:
    """The MeSH branches of a concept (first two tree levels, e.g. C14.280, D03.383), from the
    thesaurus when installed: what kind of drug and disease a pair joins generalises across names."""
    branches = _BRANCHES.get(cid)
    if branches is None:
        from .mesh import Thesaurus

        thesaurus = Thesaurus.load() if cid.startswith("D") else None
        d = thesaurus.get(cid) if thesaurus is not None else None
        branches = tuple(sorted({".".join(t.split(".")[:2]) for t in d.trees})) if d is not None else ()
        _BRANCHES[cid] = branches
    return branches


_BRANCHES: dict[str, tuple[str, ...]] = {}


def candidates(title: str, abstract: str, mentions_fn, approved: frozenset[str] | set[str] = frozenset()
               ) -> list[Candidate]:
    """All drug–disease candidates of one article. `mentions_fn(text)` tags a text; `approved`
    holds the concept ids of approved drugs (a feature: metabolites and hormones rarely "treat")."""
    title = title.strip()
    if title and not title.endswith((".", "?", "!")):
        title += "."
    text = f"{title} {abstract.strip()}".strip()
    title_end = len(title)
    mentions = mentions_fn(text)
    by_concept: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_concept[m.concept].append(m)
    drugs = [c for c, ms in by_concept.items() if ms[0].type in DRUG_TYPES]
    diseases = [c for c, ms in by_concept.items() if ms[0].type == "disease"]
    if not drugs or not diseases:
        return []
    sentences = sentence_spans(text)
    drug_counts = Counter({c: len(by_concept[c]) for c in drugs})
    disease_counts = Counter({c: len(by_concept[c]) for c in diseases})
    top_drug = drug_counts.most_common(1)[0][1]
    top_disease = disease_counts.most_common(1)[0][1]
    low = text.lower()
    doc = {f"doc={name}": 1.0 for name, rx in _DOC_CUES.items() if rx.search(low)}
    doc["log_drugs"] = math.log1p(len(drugs))
    doc["log_diseases"] = math.log1p(len(diseases))
    drug_rank = {c: i for i, (c, _) in enumerate(drug_counts.most_common())}
    disease_rank = {c: i for i, (c, _) in enumerate(disease_counts.most_common())}
    n_len = max(1, len(text))
    out = []
    for d in drugs:
        for s in diseases:
            f, evidence = _pair_features(text, sentences, by_concept[d], by_concept[s], title_end)
            f.update(doc)
            f["main_drug"] = float(drug_counts[d] == top_drug)
            f["main_disease"] = float(disease_counts[s] == top_disease)
            f["main_both"] = f["main_drug"] * f["main_disease"]
            f[f"drug_type={by_concept[d][0].type}"] = 1.0
            f["approved_drug"] = float(d in approved)
            # salience: rank among the article's drugs / diseases, where each first appears
            f[f"drug_rank={min(drug_rank[d], 3)}"] = 1.0
            f[f"disease_rank={min(disease_rank[s], 3)}"] = 1.0
            f["drug_first_at"] = by_concept[d][0].start / n_len
            f["disease_first_at"] = by_concept[s][0].start / n_len
            f["drug_share"] = drug_counts[d] / sum(drug_counts.values())
            f["disease_share"] = disease_counts[s] / sum(disease_counts.values())
            for b in _tree_branches(d):
                f[f"drug_tree={b}"] = 1.0
            for b in _tree_branches(s):
                f[f"disease_tree={b}"] = 1.0
            out.append(Candidate(d, s, f, evidence))
    return out


class RelationModel:
    """Two logistic regressions over sparse features, stored as JSON."""

    def __init__(self, weights: dict[str, list[float]], thresholds: dict[str, float], meta: dict[str, Any]) -> None:
        self.weights = weights
        self.thresholds = thresholds
        self.meta = meta

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> RelationModel:
        data = json.loads(Path(path).read_text())
        return cls(data["weights"], data["thresholds"], data.get("meta", {}))

    def save(self, path: Path = MODEL_FILE) -> None:
        rounded = {k: [round(x, 5) for x in v] for k, v in sorted(self.weights.items()) if any(abs(x) > 1e-5 for x in v)}
        Path(path).write_text(json.dumps({"meta": self.meta, "thresholds": self.thresholds, "weights": rounded},
                                         indent=0, sort_keys=False) + "\n")

    def probabilities(self, features: dict[str, float]) -> dict[str, float]:
        z = [0.0] * len(RELATIONS)
        for name, value in features.items():
            w = self.weights.get(name)
            if w is not None:
                for i, x in enumerate(w):
                    z[i] += x * value
        return {rel: 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, zi)))) for rel, zi in zip(RELATIONS, z, strict=True)}

    def label(self, probs: dict[str, float]) -> str:
        """treats / causes (the more confident one above its threshold) or other."""
        above = [(probs[r] / self.thresholds[r], r) for r in RELATIONS if probs[r] >= self.thresholds[r]]
        return max(above)[1] if above else "other"

    def score(self, cands: list[Candidate]) -> list[Candidate]:
        for c in cands:
            c.probs = self.probabilities(c.features)
        return cands


def fit(examples: list[dict[str, float]], labels: list[set[str]], c: float = 1.0) -> dict[str, list[float]]:
    """Train the two classifiers (scikit-learn, only at training time); weights by feature name."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = DictVectorizer()
    x = vec.fit_transform(examples).tocsr()
    x.indices = x.indices.astype("int32")  # liblinear takes 32-bit indices only
    x.indptr = x.indptr.astype("int32")
    names = vec.get_feature_names_out()
    weights: dict[str, list[float]] = {n: [0.0] * len(RELATIONS) for n in names}
    for i, rel in enumerate(RELATIONS):
        y = [rel in lab for lab in labels]
        clf = LogisticRegression(C=c, max_iter=2000, solver="liblinear", fit_intercept=False, random_state=0)
        clf.fit(x, y)
        for n, w in zip(names, clf.coef_[0], strict=True):
            weights[n][i] = float(w)
    return weights
