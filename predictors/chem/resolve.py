"""Turn user inputs (SMILES, MOL blocks or drug names) into standardized molecules, keeping every row."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .lexicon import MAX_NAME_CHARS
from .mol import ASCII_WHITESPACE, ascii_lookalike, looks_like_molblock, parse_molecule
from .smiles_checks import fold_lookalikes, preview

# a letter first, then letters (any script: "β-carotene"), digits, spaces and name punctuation
_NAME_LIKE = re.compile(r"^[^\W\d_][\w ,'\-()‐–’]*$")
# what names never have and SMILES do: bond and bracket marks, a ring digit right after an atom or branch
_SMILES_MARKS = re.compile(r"[=#\[\]@/\\%]|[A-Za-z)]\d")


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
    return (bool(_NAME_LIKE.match(text)) and "_" not in text and (any(c.islower() for c in text) or " " in text)
            and len(text) >= 3)


def _from_parsed(text: str, raw: str, kind: str) -> ResolvedInput:
    parsed = parse_molecule(raw)
    if parsed.valid:
        return ResolvedInput(text, parsed.mol, parsed.smiles, how=kind)
    return ResolvedInput(text, error=parsed.error, reason=parsed.reason)


def resolve_input(text: str, use_lexicon: bool = True) -> ResolvedInput:
    """SMILES or MOL block first; a name-like input or an unparsable one goes to the lexicon (an
    unparsable input that does not look like a name only by its exact spelling: "(S)-camphor").

    Never sent to the lexicon: MOL blocks, inputs over MAX_NAME_CHARS (refused as "too large" when
    name-like), and non-ASCII text that reads as a SMILES once look-alikes are folded (`ССO` with
    Cyrillic С is refused as "non-ascii" with "did you mean 'CCO'?", not fuzzy-matched to a drug).
    Names with non-ASCII letters ("β-carotene", "α-tocopherol") are looked up.
    """
    raw = (text or "").strip(ASCII_WHITESPACE)  # a non-ASCII space stays, and is refused as such
    if looks_like_molblock(raw):
        return _from_parsed(text, text, "molblock")
    if len(raw) > MAX_NAME_CHARS:  # longer than any drug name: chemistry or nothing, no fuzzy matching
        resolved = _from_parsed(text, raw, "smiles")
        if not resolved.valid and use_lexicon and _looks_like_name(raw[:MAX_NAME_CHARS]):
            return ResolvedInput(text, error=f"name-like input of {len(raw):,} characters; drug names have at most "
                                 f"{MAX_NAME_CHARS}: {preview(raw)}", reason="too large")
        return resolved
    if ascii_lookalike(raw) is not None:  # a SMILES typed with look-alike characters: refused, with the hint
        return _from_parsed(text, raw, "smiles")
    name_first = use_lexicon and _looks_like_name(raw)
    parsed = None if name_first else parse_molecule(raw)
    if parsed is not None and parsed.valid:
        return ResolvedInput(text, parsed.mol, parsed.smiles, how="smiles")
    if use_lexicon and raw and (name_first or (raw.isalpha() and len(raw) >= 4)):
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
                return ResolvedInput(text, parsed.mol, parsed.smiles, how="smiles")
        hint = f"; did you mean: {', '.join(match.suggestions)}?" if match.suggestions else ""
        why, reason = "", "unknown name"
        if parsed.reason == "non-ascii":  # say which character; chemistry-shaped text is a SMILES refused for it
            why = f" ({parsed.error})"
            reason = "non-ascii" if _SMILES_MARKS.search(fold_lookalikes(raw) or raw) else reason
        return ResolvedInput(text, error=f"{preview(raw)} is neither a valid SMILES{why} nor a known approved-drug "
                             f"name{hint}", reason=reason, suggestions=match.suggestions)
    parsed = parsed or parse_molecule(raw)
    if use_lexicon and raw and not parsed.valid:  # a name written like chemistry: "(S)-camphor", "2-PAM"
        from .lexicon import default_lexicon

        match = default_lexicon().lookup(raw)
        if match.entry is not None and match.method == "exact":
            by_name = parse_molecule(match.entry.smiles)
            return ResolvedInput(text, by_name.mol, by_name.smiles, match.entry.name, "name (exact)")
    return ResolvedInput(text, error=parsed.error, reason=parsed.reason)
