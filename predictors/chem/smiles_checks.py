"""Checks on the text of a SMILES or MOL block before RDKit reads it, and short echoes of bad inputs.

RDKit reads some inputs as a different molecule without a word: it skips or misreads characters
outside ASCII (Cyrillic `С`, Greek `Ο`, zero-width and bidi marks, emoji), wraps isotope mass numbers
round at 65,536 (`[999999C]` becomes `[16959C]`, `[65549C]` becomes `[13C]`) and takes one side of
a ring closure whose two ends carry different bonds (`C=1CCCCC#1` becomes cyclohexene). The functions
here find those on the raw text and say what is wrong; `parse_molecule` refuses such inputs.
"""

from __future__ import annotations

import re
import unicodedata

MAX_ECHO = 60  # characters of an input an error message may show
MAX_MASS_NUMBER = 300  # no known nuclide is heavier (oganesson-294 is the heaviest made)

# Characters that look like an ASCII character used in SMILES (Cyrillic and Greek capitals and
# lower-case letters, dashes). Full-width forms are folded by NFKC.
LOOKALIKES = {
    **dict(zip("АВСЕНІЈКМОРЅТХУаесорѕіјхуһԁԛԝ", "ABCEHIJKMOPSTXYaecopsijxyhdqw", strict=True)),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧοινκϹϲ", "ABEZHIKMNOPTYXoivkCc", strict=True)),
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "−": "-", "≡": "#", "∶": ":", "⁄": "/", "∕": "/",
}
_RING_BOND_ORDER = {"-": "single", "/": "single", "\\": "single", "=": "double", "#": "triple", "$": "quadruple",
                    ":": "aromatic"}
_BRACKET_MASS = re.compile(r"\[(\d+)")


def preview(text: str, limit: int = MAX_ECHO) -> str:
    """The input quoted for an error message: at most `limit` characters, then an ellipsis."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def describe_char(char: str) -> str:
    """`'С' (U+0421 CYRILLIC CAPITAL LETTER ES)`: the character, its code point and its Unicode name."""
    name = unicodedata.name(char, "")
    return f"{char!r} (U+{ord(char):04X}{' ' + name if name else ''})"


def first_non_ascii(text: str) -> tuple[int, str] | None:
    """(0-based index, character) of the first character outside ASCII, None if there is none."""
    if text.isascii():
        return None
    return next((i, c) for i, c in enumerate(text) if not c.isascii())


def fold_lookalikes(text: str) -> str | None:
    """The ASCII text a user most likely meant, or None when a character has no safe ASCII reading.

    Look-alike letters and full-width forms become their ASCII twins; invisible format characters
    (zero-width, bidi marks, byte-order mark) and non-ASCII spaces are dropped anywhere; symbols such as
    emoji are dropped only at the ends (decorations), never from the middle of the text.
    """
    out: list[str] = []
    for i, char in enumerate(text):
        if char.isascii():
            out.append(char)
            continue
        if char in LOOKALIKES:
            out.append(LOOKALIKES[char])
            continue
        category = unicodedata.category(char)
        if category == "Cf" or char.isspace():
            continue
        compatible = unicodedata.normalize("NFKC", char)
        if compatible.isascii() and compatible.strip():
            out.append(compatible)
            continue
        at_edge = not text[:i].strip() or not text[i + 1:].strip()
        if category.startswith("S") and at_edge:
            continue
        return None
    folded = "".join(out).strip()
    return folded or None


def non_ascii_message(text: str, suggestion: str | None) -> str | None:
    """Why `text` is refused as SMILES when it holds a non-ASCII character (1-based position), else None."""
    found = first_non_ascii(text)
    if found is None:
        return None
    index, char = found
    message = f"non-ASCII character {describe_char(char)} at position {index + 1}"
    return message + (f"; did you mean {preview(suggestion)}?" if suggestion else "")


def molblock_non_ascii_message(block: str) -> str | None:
    """A non-ASCII character in a MOL block's counts, atom or bond lines (the title and data may have them)."""
    for number, line in enumerate(block.splitlines()[3:], start=4):
        if line.startswith("M  END"):
            return None
        found = first_non_ascii(line)
        if found is not None:
            return f"non-ASCII character {describe_char(found[1])} in line {number} of the MOL block"
    return None


def _ring_label(smiles: str, at: int) -> tuple[str, int]:
    """The ring-closure label starting at `at` (a digit, %nn or RDKit's %(nnn)) and where it ends."""
    if smiles[at] != "%":
        return smiles[at], at + 1
    if smiles.startswith("%(", at):
        end = smiles.find(")", at)
        return (smiles[at:], len(smiles)) if end < 0 else (smiles[at + 2:end], end + 1)
    return smiles[at + 1:at + 3], at + 3


def ring_closure_message(smiles: str) -> str | None:
    """The first ring closure whose two ends give different bonds (`C=1CCCCC#1`), else None.

    A bond written on one end only (`C1CCCCC=1`) is legal SMILES; `/` and `\\` count as single bonds.
    Scanning stops at the first space (what follows is a title or CXSMILES extension).
    """
    opened: dict[str, str | None] = {}
    bond: str | None = None
    at, n = 0, len(smiles)
    while at < n:
        char = smiles[at]
        if char.isspace():
            break
        if char == "[":  # a bracket atom: skip it whole (its digits are isotopes, charges, H counts)
            end = smiles.find("]", at)
            if end < 0:
                return None  # unbalanced: RDKit refuses it
            at, bond = end + 1, None
            continue
        if char in _RING_BOND_ORDER:
            bond = char
            at += 1
            continue
        if char.isdigit() or char == "%":
            label, at = _ring_label(smiles, at)
            if label in opened:
                first = opened.pop(label)
                if first and bond and _RING_BOND_ORDER[first] != _RING_BOND_ORDER[bond]:
                    return (f"ring closure {label} has conflicting bonds {first!r} ({_RING_BOND_ORDER[first]}) and "
                            f"{bond!r} ({_RING_BOND_ORDER[bond]}) at its two ends")
            else:
                opened[label] = bond
            bond = None
            continue
        bond = None
        at += 1
    return None


def mass_number_message(smiles: str) -> str | None:
    """A bracket atom whose isotope mass number is beyond any nuclide (RDKit would wrap it round), else None."""
    for match in _BRACKET_MASS.finditer(smiles):
        mass = match.group(1)
        if len(mass) > 3 or not 1 <= int(mass) <= MAX_MASS_NUMBER:  # RDKit reads [0C] as no label at all
            shown = mass if len(mass) <= 12 else mass[:12] + "…"
            return f"isotope mass number {shown} at position {match.start() + 1} is outside 1..{MAX_MASS_NUMBER}"
    return None
