"""Right tool and right arguments of a generated question's run: compared with the calls its key implies
(agent/training/oracle.py plans them from `meta`).

- right tool: the run called the planned tool (and it ran without failing);
- right arguments: that call named the planned subject — the same drug (by InChIKey connectivity,
  so "aspirin" and "acetylsalicylic acid" agree), the same ATC class, or for a literature search a
  query that retrieved a gold PMID.

Questions without a plan (hand-written batches, open questions of other kinds) get None for both.
"""

from __future__ import annotations

from typing import Any


def _drug_key(name: str) -> str | None:
    from litmol.predictors import default_lexicon
    from litmol.predictors.chem.resolve import resolve_input

    match = default_lexicon().lookup(name)
    if match.entry is not None:
        return match.entry.inchikey[:14]
    resolved = resolve_input(name, use_lexicon=False)
    if resolved.valid:
        from rdkit import Chem

        return Chem.MolToInchiKey(resolved.mol)[:14]
    return None


def _class_codes(name: str) -> set[str]:
    from litmol.predictors.chem.facts import UnknownClassError, default_facts

    try:
        return {c.code for c in default_facts().find_classes(name)}
    except UnknownClassError:
        return set()


def routing_scores(question: dict[str, Any], record: dict[str, Any]) -> dict[str, bool | None]:
    """{right_tool, right_args} of one result record (None when the question has no planned call)."""
    from ..training.oracle import plan

    try:
        p = plan(question)
    except (KeyError, TypeError, ValueError):
        p = None
    if p is None or not p.calls:
        return {"right_tool": None, "right_args": None}
    want = p.calls[0]
    calls = [c for c in record.get("tool_calls") or [] if c.get("name") == want.name and c.get("ok", True)]
    if not calls:
        return {"right_tool": False, "right_args": False}
    if want.name == "search_literature":
        gold = set(question.get("gold_pmids") or [])
        return {"right_tool": True, "right_args": bool(gold & set(record.get("retrieved_pmids") or []))}
    if p.kind == "atc-class":
        code = want.args["name"]
        return {"right_tool": True, "right_args": any(code in _class_codes(str(c["args"].get("name", "")))
                                                      for c in calls)}
    key = _drug_key(str(want.args.get("molecule") or want.args.get("name")))
    got = [_drug_key(str((c.get("args") or {}).get("molecule") or (c.get("args") or {}).get("name") or ""))
           for c in calls]
    return {"right_tool": True, "right_args": key is not None and key in got}
