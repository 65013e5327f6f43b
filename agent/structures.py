"""Structures in an answer are the structures the tools returned.

A small model copies SMILES badly (a bracket atom dropped, a ring digit lost), and text filters meant
for markup can eat brackets (`[C@H](O)` reads like a markdown link). So before an answer is shown,
every SMILES-like token in it is checked in code: it must parse, to a molecule that a tool returned
in this turn or that the user wrote. A token that does not is replaced by the tool's own SMILES when
it is a garbled copy of exactly one of them, and removed (with a note) otherwise.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from langchain_core.messages import HumanMessage, ToolMessage

# a run of SMILES characters not glued to a word or a path; SMILES_SIGNS: what words and codes lack
SMILES_TOKEN = re.compile(r"(?<![\w/])[A-Za-z0-9@+\-\[\]\(\)=#%/\\.]{5,}")
SMILES_SIGNS = re.compile(r"[()\[\]=#@]|[a-z]\d|\d[a-zA-Z]|^[CNOcnos]{5,}$")
# a token that can only be chemistry: bond/branch/bracket marks, and letters that are all atoms (at least 4)
CHEMISTRY_MARKS = re.compile(r"[()\[\]=#@]")
ATOM = re.compile(r"Cl|Br|[BCNOPSFIH]|[bcnops]")
MIN_ATOMS = 4
GARBLED_SIMILARITY = 0.75  # difflib ratio between a broken token and the tool's SMILES it was copied from
UNREADABLE = "[structure removed: it did not parse as a molecule a tool returned]"
UNRETURNED = "[structure removed: no tool returned it]"


def canonical(text: str, min_atoms: int = 1) -> str | None:
    """RDKit's canonical SMILES of `text`, or None when it does not parse (or has fewer than `min_atoms`)."""
    from rdkit import Chem

    from litmol.predictors.chem.mol import quiet_rdkit

    if not text or not text.isascii():
        return None
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(text)
    return Chem.MolToSmiles(mol) if mol is not None and mol.GetNumAtoms() >= min_atoms else None


def _trim(token: str) -> tuple[str, str]:
    """(token, what follows it): trailing sentence punctuation and unbalanced closing parentheses
    are text around a SMILES ("(SMILES CCO):", "is CCO.")."""
    tail = ""
    while token and (token[-1] in ".,;:" or token[-1] == ")" and token.count(")") > token.count("(")):
        token, tail = token[:-1], token[-1] + tail
    return token, tail


def smiles_in(text: str, min_atoms: int = 1) -> dict[str, str]:
    """Canonical SMILES -> the SMILES as written, for every token of `text` that looks like and parses as one."""
    found: dict[str, str] = {}
    for match in SMILES_TOKEN.finditer(text or ""):
        token, _ = _trim(match.group(0))
        if SMILES_SIGNS.search(token) and (c := canonical(token, min_atoms)):
            found.setdefault(c, token)
    return found


def returned_structures(question: str, turn: Iterable[Any]) -> dict[str, str]:
    """Structures this turn may show: what its tools returned, and what the user wrote."""
    allowed = smiles_in(question)
    for m in turn:
        if isinstance(m, ToolMessage | HumanMessage):
            allowed.update(smiles_in(str(m.content)))
    return allowed


def _garbled_copy(token: str, allowed: dict[str, str]) -> str | None:
    """The one returned SMILES that `token` is a damaged copy of (its start, cut where the answer ran out; the
    same text once brackets are dropped; or close by difflib), None when there is none or more than one."""
    cut = {raw for raw in allowed.values() if len(token) >= 8 and raw.startswith(token)}  # the answer ran out
    if len(cut) == 1:
        return cut.pop()
    flat = re.sub(r"[\[\]]", "", token)
    same = {raw for raw in allowed.values() if re.sub(r"[\[\]]", "", raw) == flat}
    if len(same) == 1:
        return same.pop()
    close = [raw for raw in allowed.values() if difflib.SequenceMatcher(None, token, raw).ratio() >= GARBLED_SIMILARITY]
    return close[0] if len(close) == 1 else None


def _chemistry(token: str) -> bool:
    """Whether a token can only be a structure: two or more bond/branch/bracket marks and, once those and
    digits are dropped, nothing but atom symbols, at least MIN_ATOMS of them."""
    letters = re.sub(r"[^A-Za-z]", " ", token)
    atoms = [a for word in letters.split() for a in ATOM.findall(word)]
    all_atoms = all(ATOM.sub("", word) == "" for word in letters.split())
    return len(CHEMISTRY_MARKS.findall(token)) >= 2 and all_atoms and len(atoms) >= MIN_ATOMS


def check_structures(answer: str, question: str, turn: Iterable[Any]) -> str:
    """`answer` with every SMILES it shows parsing to a structure this turn's tools returned (or the user
    wrote): a garbled copy is replaced by the tool's SMILES, anything else chemistry-shaped is removed."""
    allowed = returned_structures(question, list(turn))
    out: list[str] = []
    last = 0
    for match in SMILES_TOKEN.finditer(answer or ""):
        token, tail = _trim(match.group(0))
        if not SMILES_SIGNS.search(token):
            continue
        parsed = canonical(token)
        if parsed is not None and parsed in allowed:
            continue
        replacement = _garbled_copy(token, allowed)
        if replacement is None:
            if not _chemistry(token):
                continue  # a word, a code or a statistic ("C08CA", "CYP3A4", "(n=12)"), not a structure
            replacement = UNREADABLE if parsed is None else UNRETURNED
        out.append(answer[last:match.start()] + replacement + tail)
        last = match.end()
    return "".join(out) + (answer or "")[last:]
