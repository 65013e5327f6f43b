"""Scoring one agent run against a question's key (used by bench/agent_eval.py and eval batches).

A question record (corpora/eval/agent_dev.jsonl) names the tools it needs (groups of acceptable
alternatives), the molecule a tool should have handled, gold PMIDs, and how to check the answer:
`number` (a number within a tolerance, near a word for the property), `yesno` (the answer's
polarity about the property), `smiles` (a SMILES of the right molecule) or `keywords`.
These are heuristics over free text; they are meant to rank models and prompts on the same
questions, and the per-question records keep the answers for reading.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage

from .tools import ANSWER_TOOL, TOOLS, retrieved_pmids

PROPERTY_WORDS = {
    "mw": r"weight|\bmw\b|mass|dalton|\bda\b|g/mol",
    "tpsa": r"tpsa|polar surface",
    "clogp": r"logp|partition|lipophil",
    "hbd": r"donor|hbd",
    "hba": r"acceptor|hba",
    "logs": r"solub|logs",
    "logd": r"logd|distribution|lipophil",
    "bbb": r"brain|bbb|\bcns\b|central nervous",
    "lipinski_pass": r"lipinski|rule of (five|5)|drug-?like",
}
NEGATIVE = re.compile(r"\b(no|not|cannot|can't|doesn't|won't|isn't|unlikely|fails?|poor(ly)?|low|impermeable|"
                      r"non-?penetrant|unable|bbb-|violates)\b", re.IGNORECASE)
POSITIVE = re.compile(r"\b(yes|cross(es)?|likely|penetrat\w*|permeable|pass(es)?|compliant|drug-?like|able|high|"
                      r"bbb\+|reach(es)?|gets? into|satisf\w+|meets?|complies)\b", re.IGNORECASE)
NOT_NEGATIVE = re.compile(r"\b(no|zero|0|not any) (lipinski )?violations?|(does not|doesn't|not) violate\w*|"
                          r"no more than", re.IGNORECASE)
NUMBER = re.compile(r"(?<![\w.])[-−–]?\d+(?:\.\d+)?")
SMILES_TOKEN = re.compile(r"[A-Za-z0-9@+\-\[\]()=#$/\\%.]{4,}")
CITE = re.compile(r"\[PMID:\d+\]")


def _sentences(text: str, prop: str | None) -> str:
    """The sentences that talk about `prop` (the whole text when none does)."""
    text = CITE.sub(" ", text or "")
    if not prop or prop not in PROPERTY_WORDS:
        return text
    parts = [s for s in re.split(r"(?<=[.!?;])\s+|\n+", text) if re.search(PROPERTY_WORDS[prop], s, re.I)]
    return " ".join(parts) if parts else text


def polarity(text: str) -> bool | None:
    """True for a yes, False for a no, None when the text says neither."""
    text = NOT_NEGATIVE.sub(" passes ", text)
    if NEGATIVE.search(text):
        return False
    if POSITIVE.search(text):
        return True
    return None


def _inchikey(smiles: str) -> str | None:
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles)
    return Chem.MolToInchiKey(mol) if mol is not None and mol.GetNumAtoms() > 2 else None


def check_answer(answer: str, check: dict[str, Any] | None) -> bool | None:
    """Whether the answer is right by the question's check; None when it has no checkable answer."""
    if not check:
        return None
    kind = check["type"]
    if kind == "keywords":
        low = (answer or "").lower()
        return all(any(w.lower() in low for w in group) for group in check["groups"])
    if kind == "smiles":
        keys = {_inchikey(t) for t in SMILES_TOKEN.findall(CITE.sub(" ", answer or ""))}
        return any(k and k[:14] == check["inchikey"][:14] for k in keys)
    text = _sentences(answer, check.get("property"))
    if kind == "yesno":
        return polarity(text) is check["value"]
    if kind == "number":
        numbers = [float(n.replace("−", "-").replace("–", "-")) for n in NUMBER.findall(text)]
        return any(abs(n - float(check["value"])) <= float(check["tol"]) + 1e-9 for n in numbers)
    raise ValueError(f"unknown check type {kind!r}")


def _schemas() -> dict[str, Any]:
    return {t.name: t.tool_call_schema for t in [*TOOLS, ANSWER_TOOL]}  # without injected arguments (runtime)


def call_is_valid(name: str, args: Any) -> bool:
    """The call names a known tool and its arguments validate against that tool's schema."""
    schema = _schemas().get(name)
    if schema is None or not isinstance(args, dict):
        return False
    try:
        schema.model_validate(args)
    except Exception:  # pydantic ValidationError: the call would not have run
        return False
    return True


def _molecule_key(arg: str) -> str | None:
    from litmol.predictors.chem.resolve import resolve_input

    try:
        resolved = resolve_input(str(arg))
    except Exception:  # the scorer never fails a run; an unresolvable argument is simply wrong
        return None
    return _inchikey(resolved.smiles) if resolved.valid else None


def score_run(question: dict[str, Any], messages: list[Any], answer: str, cited: list[str]) -> dict[str, Any]:
    """Per-question scores: tool-call validity, right tools, right arguments, citations, correctness."""
    calls = [c for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    invalid = sum(len(getattr(m, "invalid_tool_calls", []) or []) for m in messages if isinstance(m, AIMessage))
    valid = sum(call_is_valid(c["name"], c.get("args")) for c in calls)
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    used = {c["name"] for c in calls if c["name"] != ANSWER_TOOL.name and c.get("id") in results
            and results[c["id"]].status != "error"}
    groups = question.get("tools") or []
    right_tool = all(any(t in used for t in group) for group in groups) if groups else not used
    retrieved = retrieved_pmids(messages)
    gold = set(question.get("gold_pmids") or [])
    right_args = None
    if question.get("molecule"):
        want = question["molecule"]["inchikey"][:14]
        keys = [_molecule_key(c["args"].get("molecule") or c["args"].get("name") or "") for c in calls
                if c["name"] in {"predict_properties", "resolve_molecule"}]
        right_args = any(k and k[:14] == want for k in keys)
    if gold:
        found = bool(gold & retrieved)
        right_args = found if right_args is None else (right_args and found)
    return {
        "tool_calls": len(calls) + invalid, "valid_tool_calls": valid,
        "right_tool": right_tool, "right_args": right_args,
        "retrieved_gold": bool(gold & retrieved) if gold else None,
        "citations_valid": set(cited) <= retrieved,
        "cited": len(cited), "cited_gold": len(set(cited) & gold) if gold else None,
        "correct": check_answer(answer, question.get("check")),
    }
