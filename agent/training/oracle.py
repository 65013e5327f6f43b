"""The right tool calls for a scripted question, and a faithful templated reading of their results.

For every template of the batch generator (corpora/eval/make_batches.py) the question's key says which
subject it is about (`meta`: the drug's InChIKey, the ATC code, the MeSH drug and disease); `plan`
turns that into the calls a good agent makes, and `templated_answer` writes the answer that reads
the tool results and nothing else. Executed for real, they give

- the ceiling of the tools (bench/oracle_ceiling.py): how many questions of each type a correct call
  followed by a faithful reading answers right, and
- the assistant turns of the training traces (agent/training/traces.py), kept only when that answer
  is right by the key.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

PROB = re.compile(r"blood-brain barrier: (likely crosses|unlikely to cross) \(probability ([0-9.]+)")
APPROVAL = re.compile(r"first approved in (\d{4})")
ATC_LINE = re.compile(r"^ATC ([A-Z]\d{2}[A-Z]{2}): (.+)$", re.MULTILINE)
CLASS_LINE = re.compile(r"^ATC class (.+?) \(level (\d)\): (\d+) approved drug\(s\)(?: \(first \d+ of \d+\))?: (.+)\.$",
                        re.MULTILINE)
PASSAGE = re.compile(r"^\[PMID:(\d+)\] \((\d{4}|n\.d\.)\) (.+)$", re.MULTILINE)


@dataclass(slots=True)
class Call:
    name: str
    args: dict[str, Any]


@dataclass(slots=True)
class Step:
    """One executed call and what the tool returned."""

    call: Call
    result: str = ""


@dataclass(slots=True)
class Plan:
    """The calls for one question and the subject words the answer names."""

    kind: str  # bbb, atc, approval, atc-class, treats, causes, open
    calls: list[Call]
    subject: dict[str, str] = field(default_factory=dict)


@functools.lru_cache(maxsize=1)
def _entries_by_key() -> dict[str, Any]:
    from litmol.predictors import default_lexicon

    return {e.inchikey: e for e in default_lexicon().entries}


def template_kind(question: dict[str, Any]) -> str:
    """'bbb-3' -> 'bbb', 'atc-class-2' -> 'atc-class', 'treats-5' -> 'treats'."""
    return str((question.get("meta") or {}).get("template", "")).rsplit("-", 1)[0]


def _plain(name: str) -> str:
    return name.lower() if name[1:] == name[1:].lower() else name


def _natural(mesh: str) -> str:
    """A MeSH heading as a user writes it: 'Carcinoma, Hepatocellular' -> 'hepatocellular carcinoma'
    (acronyms and words with digits kept; the batch generator writes its questions the same way)."""
    if ", " in mesh and mesh.count(",") == 1:
        head, tail = mesh.split(", ")
        mesh = f"{tail} {head}"
    return " ".join(w if w.isupper() or any(c.isdigit() for c in w) else w.lower() for w in mesh.split())


def plan(question: dict[str, Any]) -> Plan | None:
    """The right calls for a generated question (None: a template this module does not know)."""
    meta = question.get("meta") or {}
    kind = template_kind(question)
    if kind in ("bbb", "atc", "approval"):
        entry = _entries_by_key().get(meta.get("inchikey", ""))
        if entry is None:
            return None
        drug = _plain(entry.name)
        if kind == "bbb":
            return Plan(kind, [Call("predict_properties", {"molecule": drug, "properties": ["bbb"]})], {"drug": drug})
        return Plan(kind, [Call("drug_facts", {"name": drug})], {"drug": drug})
    if kind == "atc-class":
        return Plan(kind, [Call("drug_facts", {"name": meta["atc_code"]})], {"code": meta["atc_code"]})
    if kind in ("treats", "causes", "open"):
        drug, disease = _natural(meta["mesh_drug"]), _natural(meta["mesh_disease"])
        return Plan(kind, [Call("search_literature", {"query": f"{drug} {disease}"})], {"drug": drug, "disease": disease})
    return None


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def templated_answer(p: Plan, steps: list[Step]) -> str | None:
    """The answer a faithful reader writes from the results (None: the results do not answer it)."""
    text = "\n".join(s.result for s in steps)
    drug = p.subject.get("drug", "")
    if p.kind == "bbb":
        m = PROB.search(text)
        if not m:
            return None
        caveat = " The prediction is outside the model's training domain, so it is less reliable." \
            if "outside the model's training domain" in text else ""
        if m.group(1) == "likely crosses":
            return (f"Yes. {drug.capitalize()} is predicted to cross the blood-brain barrier (BBB probability "
                    f"{m.group(2)}).{caveat} This is a model prediction, not a measurement.")
        return (f"No. {drug.capitalize()} is predicted not to cross the blood-brain barrier (BBB probability "
                f"{m.group(2)}).{caveat} This is a model prediction, not a measurement.")
    if p.kind == "approval":
        m = APPROVAL.search(text)
        return f"{drug.capitalize()} was first approved in {m.group(1)}." if m else None
    if p.kind == "atc":
        paths = ATC_LINE.findall(text)
        if not paths:
            return None
        groups: list[str] = []
        for _, path in paths:
            top = path.split(" > ")[0]
            if top not in groups:
                groups.append(top)
        codes = "; ".join(f"{code}, {path.split(' > ')[-1].split(' ', 1)[-1]}" for code, path in paths)
        return f"{drug.capitalize()} belongs to the ATC main group {_join(groups)} (ATC {codes})."
    if p.kind == "atc-class":
        found = list(CLASS_LINE.finditer(text))
        if not found:
            return None
        code = p.subject.get("code", "").upper()
        m = next((x for x in found if f" {code} " in f" {x.group(1)} "), found[0])  # the class asked for
        path, drugs = m.group(1), m.group(4)
        name = path.split(" > ")[-1]
        return f"The approved drugs in ATC class {name} are {_join(drugs.split(', '))}."
    if p.kind in ("treats", "causes", "open"):
        return _literature_reading(p, steps)
    return None


def _literature_reading(p: Plan, steps: list[Step]) -> str | None:
    """What the retrieved abstracts say about the drug and the disease: the sentence of each of the best
    articles that shares the most words with them, cited (agent/evidence.py picks them), or that the
    abstracts found do not address it."""
    from langchain_core.messages import ToolMessage

    from ..evidence import evidence_lines, passages_from

    messages = [ToolMessage(s.result, tool_call_id=str(i), name=s.call.name) for i, s in enumerate(steps)]
    passages = passages_from(messages)
    if not passages:
        return None
    drug, disease = p.subject["drug"], p.subject["disease"]
    lines = evidence_lines(f"{drug} {disease}", passages, limit=3)
    if not lines:
        return (f"The retrieved abstracts do not clearly address {drug} and {disease} "
                f"[PMID:{passages[0].pmid}]; the evidence is insufficient.")
    head = {"treats": f"What the indexed abstracts report on {drug} in {disease}:",
            "causes": f"What the indexed abstracts report on {disease} and {drug}:",
            "open": f"The evidence on {drug} and {disease} in the indexed abstracts:"}[p.kind]
    return "\n".join([head, *lines])
