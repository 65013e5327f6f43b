"""Scoring one answer against its question's gold, and the batch metrics over result records.

Per record (`score_answer`, `score_retrieval`): `correct` is the binary outcome the accuracy and
the paired comparison use: yesno — the answer's polarity equals the gold; short — a gold string
appears in the answer (case-insensitive, punctuation-blind, whole words) or a number in the
answer is within tolerance of a numeric gold; list — every gold item is named; pmids — a gold
PMID is among the first 10 retrieved; open — None (for review). An errored question counts as
wrong wherever it has gold. These are heuristics over free text, meant to rank models and
prompts on the same questions; the records keep the answers for reading.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from typing import Any

from ..scoring import NUMBER, polarity

RETRIEVAL_KS = (1, 5, 10)
HIT_K = 10  # a pmids question counts as correct when a gold PMID is among this many retrieved
RELATIVE_TOLERANCE = 0.01  # numeric gold without meta.tolerance: within 1 % of its value
CITATION = re.compile(r"\[\s*PMID\s*:?\s*\d+\s*\]|\(?PMID\s*:?\s*\d+\)?", re.IGNORECASE)
LEADING_YES_NO = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)
LIST_SPLIT = re.compile(r"[,;\n•·]|(?<=[.!?])\s+|\s-\s|\band\b|\bor\b|^\s*[-*\d.)]+\s", re.IGNORECASE | re.MULTILINE)
THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")

DEFINITIONS = {
    "accuracy": "share of questions with gold whose `correct` is true; yesno: polarity matches; short: a gold "
                "string or number (within tolerance) appears; list: every gold item named; pmids: a gold "
                f"PMID among the first {HIT_K} retrieved. Errored questions count as wrong.",
    "list_precision": "answer items (split on commas, semicolons, 'and', 'or', sentences, lines) that name a gold item, macro mean",
    "list_recall": "gold items named in the answer, macro mean",
    "recall@k": "gold PMIDs among the first k PMIDs the tools retrieved, over questions with gold_pmids",
    "mrr": "1 / rank of the first gold PMID retrieved (0 when none), mean",
    "citations_valid": "answers whose cited PMIDs were all retrieved in that run, over answers citing any",
    "cited_in_index": "answers whose cited PMIDs all exist in the index, over answers citing any (null: no index)",
    "tool_call_validity": "tool calls naming a known tool with schema-valid arguments, over all calls made",
    "latency": "p50/p95 by linear interpolation between order statistics, answered questions only",
    "right_tool": "generated questions whose run called the tool their key implies (agent/evaluation/routing.py)",
    "right_args": "... and named the key's subject: the same drug (InChIKey), ATC class, or a search that retrieved a gold PMID",
    "flip_rate": "yes/no pairs (question and rewording) whose polarities differ, over pairs with both decided",
}


def normalize(text: str) -> str:
    """Lowercase, accents folded, citations and punctuation to spaces, single-spaced."""
    text = unicodedata.normalize("NFKD", CITATION.sub(" ", str(text)))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # a dot survives only inside a number
    return " ".join(re.sub(r"[^a-z0-9.]+", " ", text).split())


def mentions(answer: str, phrase: str | int | float) -> bool:
    """Whether the normalized phrase occurs in the normalized answer as whole words."""
    needle = normalize(str(phrase))
    return bool(needle) and f" {needle} " in f" {normalize(answer)} "


def _numbers(text: str) -> list[float]:
    text = THOUSANDS.sub("", CITATION.sub(" ", text or ""))
    return [float(n.replace("−", "-").replace("–", "-")) for n in NUMBER.findall(text)]


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip().replace(",", ""))
    except ValueError:
        return None


def answer_polarity(answer: str) -> bool | None:
    """A leading yes/no decides; otherwise the polarity heuristics of agent.scoring."""
    text = CITATION.sub(" ", answer or "")
    lead = LEADING_YES_NO.match(text)
    if lead:
        return lead.group(1).lower() == "yes"
    return polarity(text)


def short_correct(answer: str, gold: Any, tolerance: float | None = None) -> bool:
    """Any acceptable gold matches: numbers within tolerance, strings by whole-word containment."""
    found = _numbers(answer)
    for option in gold if isinstance(gold, list) else [gold]:
        value = _as_number(option)
        if value is not None:
            tol = tolerance if tolerance is not None else max(abs(value) * RELATIVE_TOLERANCE, 1e-9)
            if any(abs(n - value) <= tol + 1e-12 for n in found):
                return True
        if isinstance(option, str) and mentions(answer, option):
            return True
    return False


def list_scores(answer: str, gold: list[Any]) -> tuple[float, float]:
    """(precision, recall) of the gold items (each a phrase or a list of synonyms) named in the answer."""
    items = [item if isinstance(item, list) else [item] for item in gold]
    named = [any(mentions(answer, s) for s in synonyms) for synonyms in items]
    recall = sum(named) / len(items)
    pieces = [p for p in LIST_SPLIT.split(CITATION.sub(" ", answer or "")) if p and normalize(p)]
    if not pieces:
        return 0.0, recall
    hits = sum(any(mentions(p, s) for synonyms in items for s in synonyms) for p in pieces)
    return hits / len(pieces), recall


def retrieval_scores(retrieved: list[str], gold_pmids: list[str]) -> dict[str, float]:
    """recall@k for RETRIEVAL_KS and the reciprocal rank of the first gold PMID."""
    gold = set(gold_pmids)
    out = {f"recall@{k}": len(gold & set(retrieved[:k])) / len(gold) for k in RETRIEVAL_KS}
    rank = next((i for i, p in enumerate(retrieved, 1) if p in gold), None)
    out["rr"] = 1.0 / rank if rank else 0.0
    return out


def score_record(question: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """The score fields of one result record (answer text, retrieval order, citations)."""
    kind, gold = question["type"], question.get("gold")
    errored = record.get("error") is not None
    answer = "" if errored else record.get("answer") or ""
    score: dict[str, Any] = {"correct": None, "polarity": None, "list_precision": None, "list_recall": None}
    if kind == "yesno":
        score["polarity"] = answer_polarity(answer)
        score["correct"] = score["polarity"] is gold
    elif kind == "short":
        score["correct"] = short_correct(answer, gold, (question.get("meta") or {}).get("tolerance"))
    elif kind == "list":
        p, r = list_scores(answer, gold)
        score.update(list_precision=p, list_recall=r, correct=r == 1.0)
    retrieved = record.get("retrieved_pmids") or []
    cited = [c["pmid"] for c in record.get("citations") or []]
    if question.get("gold_pmids"):
        score.update(retrieval_scores(retrieved, question["gold_pmids"]))
        score["cited_in_gold"] = set(cited) <= set(question["gold_pmids"]) if cited else None
        if kind == "pmids":
            score["correct"] = score[f"recall@{HIT_K}"] > 0
    score["citations_valid"] = set(cited) <= set(retrieved) if cited else None
    if record.get("tool_calls") is not None:
        from .routing import routing_scores

        score.update(routing_scores(question, record))
    return score


def flipped(first: bool | None, second: bool | None) -> bool | None:
    """Whether a question and its rewording got opposite yes/no answers (None: one is undecided)."""
    return first != second if first is not None and second is not None else None


def rescore(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its scores recomputed from its answer, gold and retrieval by the current rules
    (a report of an old run uses today's scorer)."""
    out = dict(record, score=score_record(record, record))
    if record.get("consistency"):
        c = record["consistency"]
        second = None if c.get("error") else answer_polarity(c.get("answer") or "")
        out["consistency"] = dict(c, polarity=second, flipped=flipped(out["score"]["polarity"], second))
    return out


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation between order statistics (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _rate(flags: list[bool | None]) -> float | None:
    return _mean([float(f) for f in flags if f is not None])


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The metrics of a group of records (see DEFINITIONS)."""
    answered = [r for r in records if r.get("error") is None]
    scores = [r.get("score") or {} for r in records]
    calls = [c for r in records for c in r.get("tool_calls") or []]
    n_calls = len(calls) + sum(int(r.get("invalid_tool_calls") or 0) for r in records)
    latencies = [float(r["latency_s"]) for r in answered if r.get("latency_s") is not None]
    with_pmids = [s for s in scores if "rr" in s]
    lists = [s for s in scores if s.get("list_recall") is not None]
    pairs = [(r.get("consistency") or {}).get("flipped") for r in records if r.get("consistency")]
    out: dict[str, Any] = {
        "n": len(records), "answered": len(answered), "errors": len(records) - len(answered),
        "error_rate": (len(records) - len(answered)) / len(records) if records else None,
        "scored": sum(s.get("correct") is not None for s in scores),
        "accuracy": _rate([s.get("correct") for s in scores]),
        "list_precision": _mean([s["list_precision"] for s in lists]),
        "list_recall": _mean([s["list_recall"] for s in lists]),
        "with_gold_pmids": len(with_pmids),
        **{f"recall@{k}": _mean([s[f"recall@{k}"] for s in with_pmids]) for k in RETRIEVAL_KS},
        "mrr": _mean([s["rr"] for s in with_pmids]),
        "cited_in_gold": _rate([s.get("cited_in_gold") for s in scores]),
        "citations_valid": _rate([s.get("citations_valid") for s in scores]),
        "cited_in_index": _rate([r.get("cited_in_index") for r in records]),
        "answers_with_removed_citations": _rate([bool(r.get("removed_citations")) for r in answered]),
        "tool_calls": n_calls,
        "tool_calls_per_question": n_calls / len(records) if records else None,
        "tool_call_validity": sum(bool(c.get("valid")) for c in calls) / n_calls if n_calls else None,
        "tool_call_ok": sum(bool(c.get("ok")) for c in calls) / n_calls if n_calls else None,
        "right_tool": _rate([s.get("right_tool") for s in scores]),
        "right_args": _rate([s.get("right_args") for s in scores]),
        "latency_p50_s": percentile(latencies, 0.50),
        "latency_p95_s": percentile(latencies, 0.95),
        "tokens_in_mean": _mean([float(r.get("tokens_in") or 0) for r in answered]),
        "tokens_out_mean": _mean([float(r.get("tokens_out") or 0) for r in answered]),
    }
    if pairs:
        out["self_consistency_pairs"] = len(pairs)
        out["flip_rate"] = _rate(pairs)
    return out


def compute_metrics(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Overall and per-type metrics (types in a fixed order), with the definitions used."""
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_type[r["type"]].append(r)
    from .questions import QUESTION_TYPES

    return {"overall": summarize(records),
            "by_type": {t: summarize(by_type[t]) for t in QUESTION_TYPES if by_type.get(t)},
            "definitions": DEFINITIONS}
