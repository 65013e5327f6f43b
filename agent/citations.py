"""Citation verification: an answer may cite only PMIDs that a tool returned in this conversation.

Every PMID-like reference in the answer ("[PMID:123]", "PMID: 123", "(PMID 123)", "[123]" when 123
was retrieved) is normalized to "[PMID:123]"; a citation of anything not retrieved is removed and
its claim flagged "[citation removed: not among the retrieved articles]", so a fabricated
citation cannot reach the output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CITE_RE = re.compile(r"\[\s*PMID\s*:?\s*(\d{1,9})\s*\]|\(\s*PMID\s*:?\s*(\d{1,9})\s*\)|PMID\s*:?\s*(\d{1,9})",
                     re.IGNORECASE)
BARE_RE = re.compile(r"\[(\d{5,9})\]")
FLAG = "[citation removed: not among the retrieved articles]"


@dataclass(slots=True)
class VerifiedAnswer:
    """The repaired answer, the PMIDs it still cites (in order), and what was removed."""

    text: str
    citations: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def verify_citations(answer: str, retrieved: set[str]) -> VerifiedAnswer:
    """Keep citations of retrieved PMIDs (normalized), remove and flag the rest."""
    kept: list[str] = []
    removed: list[str] = []

    def replace(match: re.Match) -> str:
        pmid = next(g for g in match.groups() if g)
        if pmid in retrieved:
            if pmid not in kept:
                kept.append(pmid)
            return f"[PMID:{pmid}]"
        removed.append(pmid)
        return FLAG

    def replace_bare(match: re.Match) -> str:
        pmid = match.group(1)
        if pmid in retrieved:
            if pmid not in kept:
                kept.append(pmid)
            return f"[PMID:{pmid}]"
        return match.group(0)  # a bare number in brackets is not a citation unless it was retrieved

    text = CITE_RE.sub(replace, answer or "")
    text = BARE_RE.sub(replace_bare, text)
    text = re.sub(rf"(?:\s*{re.escape(FLAG)})+", f" {FLAG}", text).strip()
    return VerifiedAnswer(text, kept, removed)
