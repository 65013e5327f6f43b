"""Turn user inputs (SMILES, MOL blocks or drug names) into standardized molecules, keeping every row."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .mol import looks_like_molblock, parse_molecule

_NAME_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9 ,'\-()]*$")


@dataclass(slots=True)
class ResolvedInput:
    """One input row: the molecule when it resolved, else the reason (and name suggestions)."""

    input: str
    mol: Any = None
    smiles: str | None = None
    name: str | None = None
    how: str | None = None  # "smiles", "molblock", "name (exact)", "name (fuzzy 0.94)"
    error: str | None = None
    reason: str | None = None
    suggestions: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.mol is not None


def _looks_like_name(text: str) -> bool:
    """Words, not chemistry: 'metformin hydrochloride' yes, 'CCO' or 'c1ccccc1' no."""
    return bool(_NAME_LIKE.match(text)) and (any(c.islower() for c in text) or " " in text) and len(text) >= 3


def resolve_input(text: str, use_lexicon: bool = True) -> ResolvedInput:
    """SMILES or MOL block first; a name-like input or an unparsable one goes to the lexicon."""
    raw = (text or "").strip()
    kind = "molblock" if looks_like_molblock(raw) else "smiles"
    if kind == "molblock":
        raw = text
    name_first = use_lexicon and _looks_like_name(raw)
    parsed = None if name_first else parse_molecule(raw)
    if parsed is not None and parsed.valid:
        return ResolvedInput(text, parsed.mol, parsed.smiles, how=kind)
    if use_lexicon and raw and kind == "smiles" and (name_first or (raw.isalpha() and len(raw) >= 4)):
        from .lexicon import default_lexicon

        match = default_lexicon().lookup(raw)
        if match.entry is not None:
            by_name = parse_molecule(match.entry.smiles)
            how = "name (exact)" if match.method == "exact" else f"name (fuzzy {match.confidence:.2f})"
            return ResolvedInput(text, by_name.mol, by_name.smiles, match.entry.name, how,
                                 suggestions=match.suggestions)
        if parsed is None:
            parsed = parse_molecule(raw)
            if parsed.valid:
                return ResolvedInput(text, parsed.mol, parsed.smiles, how=kind)
        hint = f"; did you mean: {', '.join(match.suggestions)}?" if match.suggestions else ""
        return ResolvedInput(text, error=f"{raw!r} is neither a valid SMILES nor a known approved-drug name{hint}",
                             reason="unknown name", suggestions=match.suggestions)
    parsed = parsed or parse_molecule(raw)
    return ResolvedInput(text, error=parsed.error, reason=parsed.reason)
