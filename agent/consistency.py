"""Answers that agree with their evidence: the answer step sees the tool results of its turn.

A small model reads a prediction or a table row and still writes the opposite ("Yes, it crosses"
next to "probability 0.12"), names a year the tool did not return, or asserts something and then
adds that the evidence is insufficient. When the question asks for a fact a structured tool of
this turn returned (a blood-brain-barrier prediction, an approval year, an ATC group, the drugs
of an ATC class) the answer must state that fact; one that does not is replaced by the faithful
reading of the result (agent/training/oracle.py writes it, the same reading the training traces
use). An answer that rests on such a fact loses any "the evidence is insufficient" hedge.
Literature answers are left to evidence.py (grounding) and citations.py (verification).

A turn that designed compounds (propose_candidates) may show only the structures the tool returned:
an answer with a SMILES that is not one of them is replaced by the tool's own shortlist, and an answer
that does not say the numbers are predictions gets that said (`designed_structures`).
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage

from .structures import SMILES_SIGNS, SMILES_TOKEN, canonical
from .tools import tool_failed

BBB_WORDS = re.compile(r"\bbbb\b|blood[- ]brain|\bbrain\b|\bcns\b|central nervous|neuro-?penetra", re.IGNORECASE)
APPROVAL_WORDS = re.compile(r"\bapprov|\blicens|\bmarketed\b|\bfirst authori[sz]", re.IGNORECASE)
ATC_WORDS = re.compile(r"\batc\b|anatomical|therapeutic chemical|main group", re.IGNORECASE)
LIST_WORDS = re.compile(r"\b(which|what|name|list|give)\b.*\bdrugs\b|\bdrugs\b.*\b(in|under|of)\b.*\b(class|group|code)\b",
                        re.IGNORECASE)
HEDGE = re.compile(r"evidence is insufficient|insufficient evidence|not enough (evidence|information)|"
                   r"cannot (be )?(determine|answer|say)|unable to (determine|answer)|no (clear )?information",
                   re.IGNORECASE)
SENTENCE = re.compile(r"(?<=[.!?])\s+")
STRUCTURED = ("predict_properties", "drug_facts")


def asked_kind(question: str) -> str | None:
    """Which structured fact the question asks for: bbb, approval, atc-class, atc or None."""
    if ATC_WORDS.search(question) and LIST_WORDS.search(question):
        return "atc-class"
    if ATC_WORDS.search(question):
        return "atc"
    if APPROVAL_WORDS.search(question):
        return "approval"
    if BBB_WORDS.search(question):
        return "bbb"
    return None


def _structured_steps(turn: list[Any]) -> list[tuple[dict[str, Any], ToolMessage]]:
    """(call, result) of this turn's successful predict_properties / drug_facts calls, in order."""
    results = {m.tool_call_id: m for m in turn if isinstance(m, ToolMessage)}
    out = []
    for m in turn:
        if isinstance(m, AIMessage):
            for c in m.tool_calls:
                res = results.get(c.get("id"))
                if c["name"] in STRUCTURED and res is not None and not tool_failed(res):
                    out.append((c, res))
    return out


def _subject(call: dict[str, Any], result: str) -> str:
    args = call.get("args") or {}
    name = str(args.get("molecule") or args.get("name") or "").strip()
    return name if name and len(name) <= 60 else "The molecule"


def agrees(kind: str, answer: str, expected: str) -> bool:
    """Whether the model's answer states the fact of the faithful reading."""
    from .evaluation.metrics import answer_polarity, list_scores, mentions
    from .training.oracle import APPROVAL

    if kind == "bbb":
        return answer_polarity(answer) is not None and answer_polarity(answer) == answer_polarity(expected)
    if kind == "approval":
        year = APPROVAL.search(expected)
        return bool(year) and mentions(answer, year.group(1))
    if kind == "atc":
        groups = re.findall(r"ATC main group (.+?) \(ATC", expected)
        names = [g.split(" ", 1)[-1] for part in groups for g in re.split(r", | and ", part) if " " in g]
        return any(mentions(answer, n) for n in names)
    if kind == "atc-class":
        members = expected.split(" are ", 1)[-1].rstrip(".").replace(" and ", ", ").split(", ")
        return list_scores(answer, members)[1] >= 0.5
    return True


def drop_hedges(answer: str) -> str:
    """The answer without sentences saying the evidence is insufficient."""
    lines = []
    for line in answer.split("\n"):
        kept = [s for s in SENTENCE.split(line) if not HEDGE.search(s)]
        lines.append(" ".join(kept))
    return "\n".join(lines).strip()


def reconcile(answer: str, question: str, turn: list[Any]) -> tuple[str, bool]:
    """(the answer, whether it rests on a structured fact): the faithful reading of the structured
    result the question asked for replaces an answer that does not state it; an answer that does loses
    its hedges. An answer that rests on no such result is returned as it is."""
    from .training.oracle import Call, Plan, Step, templated_answer

    kind = asked_kind(question)
    steps = _structured_steps(turn)
    if kind is None or not steps:
        return answer, False
    for call, res in reversed(steps):  # the latest result that answers the question
        subject = _subject(call, str(res.content))
        plan = Plan(kind, [], {"drug": subject, "code": subject})
        expected = templated_answer(plan, [Step(Call(call["name"], call.get("args") or {}), str(res.content))])
        if expected is None:
            continue
        if agrees(kind, answer, expected):
            return drop_hedges(answer) or expected, True
        return expected, True
    return answer, False


DESIGN_TOOL = "propose_candidates"
CANDIDATE_LINE = re.compile(r"^\s*\d+\.\s+(\S+)\s+score\b", re.MULTILINE)
PREDICTION_WORDS = re.compile(r"predict|model", re.IGNORECASE)
CAVEAT = "These are model predictions, not measurements."


def _canonical(text: str) -> str | None:
    return canonical(text.strip(".,;:"), min_atoms=4)

def answer_structures(answer: str) -> set[str]:
    """Canonical SMILES of the structures written in an answer (tokens that look like and parse as SMILES)."""
    out = set()
    for token in SMILES_TOKEN.findall(answer):
        if SMILES_SIGNS.search(token) and (canonical := _canonical(token)):
            out.add(canonical)
    return out


def designed_structures(answer: str, turn: list[Any]) -> str:
    """The answer of a turn that proposed candidates, holding only the tool's structures and the caveat."""
    results = [m for m in turn if isinstance(m, ToolMessage) and m.name == DESIGN_TOOL and not tool_failed(m)]
    if not results:
        return answer
    listed = [line for m in results for line in str(m.content).splitlines() if CANDIDATE_LINE.match(line)]
    allowed = {c for line in listed if (c := _canonical(CANDIDATE_LINE.match(line).group(1)))}
    if answer_structures(answer) - allowed:  # a structure the tool did not return: show what it returned
        if not listed:
            return "No designed compound met every constraint; loosen a target or lower the similarity. " + CAVEAT
        return "Designed candidates (" + CAVEAT[:-1].lower().replace("these are ", "") + "):\n" + "\n".join(
            line.strip() for line in listed)
    if not PREDICTION_WORDS.search(answer):
        return answer.rstrip() + "\n\n" + CAVEAT
    return answer
