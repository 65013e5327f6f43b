"""Parse and standardize molecules: SMILES, SDF/MOL blocks (names go through the lexicon).

`to_mol` returns None for a bad input (datamol style); `parse_molecule` returns a
`ParsedMolecule` with the reason when it fails, so a batch never loses a row.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import InvalidMoleculeError
from .smiles_checks import (
    fold_lookalikes,
    mass_number_message,
    molblock_non_ascii_message,
    non_ascii_message,
    preview,
    ring_closure_message,
)

logger = logging.getLogger(__name__)

MAX_SMILES_CHARS = 5_000
MAX_MOLBLOCK_CHARS = 1_000_000  # a 150-heavy-atom record with hydrogens, 3D coordinates and data is ~60 kB
MAX_ATOMS = 1_000  # every atom of the input, explicit hydrogens included, before standardization
MAX_HEAVY_ATOMS = 150
ASCII_WHITESPACE = " \t\n\r\f\v"


@contextlib.contextmanager
def quiet_rdkit() -> Iterator[None]:
    """Silence RDKit's stderr chatter; callers report reasons themselves."""
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")
    try:
        yield
    finally:
        RDLogger.EnableLog("rdApp.error")


@dataclass(slots=True)
class ParsedMolecule:
    """One input after parsing: `mol` and canonical `smiles` when valid, else `error` + `reason`."""

    input: str
    mol: object | None = None
    smiles: str | None = None
    error: str | None = None
    reason: str | None = None

    @property
    def valid(self) -> bool:
        return self.mol is not None


def looks_like_molblock(text: str) -> bool:
    return "M  END" in text or "V2000" in text or "V3000" in text


def _raw_mol(text: str):
    from rdkit import Chem

    with quiet_rdkit():
        if looks_like_molblock(text):
            return Chem.MolFromMolBlock(text, sanitize=False, removeHs=False)
        return Chem.MolFromSmiles(text, sanitize=False)


@functools.lru_cache(maxsize=1)
def _tautomer_enumerator():
    """RDKit's canonical-tautomer enumerator with tighter limits: 2.4x faster than 200/1000 and the same
    canonical SMILES on 2,951 MOSES molecules and approved drugs (checked 2026-11-23)."""
    from rdkit.Chem.MolStandardize import rdMolStandardize as S

    enumerator = S.TautomerEnumerator()
    enumerator.SetMaxTautomers(30)
    enumerator.SetMaxTransforms(100)
    return enumerator


def standardize(mol, canonical_tautomer: bool = True):
    """Largest organic fragment, neutralized, optionally canonical tautomer (RDKit MolStandardize)."""
    from rdkit.Chem.MolStandardize import rdMolStandardize as S

    with quiet_rdkit():
        mol = S.Cleanup(mol)
        mol = S.LargestFragmentChooser(preferOrganic=True).choose(mol)
        mol = S.Uncharger().uncharge(mol)
        if canonical_tautomer and mol.GetNumHeavyAtoms() <= 60:  # enumeration is slow on big molecules
            mol = _tautomer_enumerator().Canonicalize(mol)
    return mol


def _round_trips(mol) -> bool:
    from rdkit import Chem

    with quiet_rdkit():
        return Chem.MolFromSmiles(Chem.MolToSmiles(mol)) is not None


def _standardized_or_original(mol):
    """The standardized molecule if its SMILES parses back; else a milder step; else the input.

    A few inorganic or organometallic inputs (a phosphite salt, a ferrocene-like anion) standardize
    to SMILES that RDKit cannot read back (hypervalent cations, unkekulizable rings)."""
    for step in (lambda m: standardize(m), lambda m: standardize(m, canonical_tautomer=False)):
        try:
            candidate = step(mol)
        except Exception:  # RDKit standardizer errors on exotic inputs
            continue
        if _round_trips(candidate):
            return candidate
    logger.debug("standardization of %s does not round-trip; kept as given", mol)
    return mol


def ascii_lookalike(text: str) -> str | None:
    """The ASCII SMILES a non-ASCII input looks like (`ССO` with Cyrillic С -> `CCO`) if that parses, else None."""
    if text.isascii():
        return None
    folded = fold_lookalikes(text)
    if folded is None or not folded.isascii() or len(folded) > MAX_SMILES_CHARS:
        return None
    return folded if _raw_mol(folded) is not None and _screen_text(folded, molblock=False) is None else None


def _screen_text(raw: str, molblock: bool) -> ParsedMolecule | None:
    """Refusals decided on the text alone: size, non-ASCII, ring-closure conflicts, impossible mass numbers."""
    if molblock:
        if len(raw) > MAX_MOLBLOCK_CHARS:
            return ParsedMolecule(raw, error=f"MOL block of {len(raw):,} characters; the limit is "
                                  f"{MAX_MOLBLOCK_CHARS:,}", reason="too large")
        problem = molblock_non_ascii_message(raw)
        return ParsedMolecule(raw, error=problem, reason="non-ascii") if problem else None
    if len(raw) > MAX_SMILES_CHARS:
        return ParsedMolecule(raw, error=f"SMILES of {len(raw):,} characters; the limit is {MAX_SMILES_CHARS:,}: "
                              f"{preview(raw)}", reason="too large")
    if not raw.isascii():
        return ParsedMolecule(raw, error=non_ascii_message(raw, ascii_lookalike(raw)), reason="non-ascii")
    problem = ring_closure_message(raw)
    if problem:
        return ParsedMolecule(raw, error=f"{preview(raw)}: {problem}", reason="ring closure")
    problem = mass_number_message(raw)
    if problem:
        return ParsedMolecule(raw, error=f"{preview(raw)}: {problem}", reason="isotope")
    return None


def _unknown_isotope(mol) -> str | None:
    """An atom labelled with a mass number that is no known isotope of its element (RDKit's table)."""
    from rdkit import Chem

    table = Chem.GetPeriodicTable()
    for atom in mol.GetAtoms():
        mass, number = atom.GetIsotope(), atom.GetAtomicNum()
        if mass and number and table.GetMassForIsotope(number, mass) == 0:
            return f"isotope mass number {mass} is no known isotope of {atom.GetSymbol()} (atom {atom.GetIdx() + 1})"
    return None


def parse_molecule(text: str, standardize_mol: bool = True) -> ParsedMolecule:
    """Parse a SMILES or MOL block into a sanitized, standardized molecule (never raises).

    Refused with a reason: non-ASCII characters in a SMILES or a MOL block's atom lines ("non-ascii", with
    the ASCII look-alike when it parses), conflicting ring-closure bonds ("ring closure"), mass numbers that
    are no known isotope ("isotope"), over MAX_SMILES_CHARS / MAX_MOLBLOCK_CHARS / MAX_ATOMS /
    MAX_HEAVY_ATOMS ("too large"). Errors quote at most a short prefix of the input.
    """
    from rdkit import Chem

    text = text or ""
    molblock = looks_like_molblock(text)
    # a MOL header may start blank; a SMILES loses ASCII spaces only, so an invisible character stays visible
    raw = text.rstrip() + "\n" if molblock else text.strip(ASCII_WHITESPACE)
    if not raw.strip():
        return ParsedMolecule(text, error="empty input", reason="empty")
    refused = _screen_text(raw, molblock)
    if refused is not None:
        refused.input = text
        return refused
    shown = preview(raw.strip())
    mol = _raw_mol(raw)
    if mol is None:
        return ParsedMolecule(text, error=f"cannot parse {shown} as SMILES or MOL block", reason="unparsable")
    if mol.GetNumAtoms() > MAX_ATOMS:
        return ParsedMolecule(text, error=f"{mol.GetNumAtoms():,} atoms; the limit is {MAX_ATOMS:,} (hydrogens "
                              f"included) and {MAX_HEAVY_ATOMS} heavy atoms", reason="too large")
    problem = _unknown_isotope(mol)
    if problem:
        return ParsedMolecule(text, error=f"{shown}: {problem}", reason="isotope")
    with quiet_rdkit():
        problems = Chem.DetectChemistryProblems(mol)
    if problems:
        kind = problems[0].GetType()
        reason = "valence" if "Valence" in kind else "unparsable"
        return ParsedMolecule(text, error=f"{shown}: {problems[0].Message()}", reason=reason)
    try:
        with quiet_rdkit():
            Chem.SanitizeMol(mol)
            mol = Chem.RemoveHs(mol)
    except Exception as exc:  # RDKit raises a zoo of sanitization errors
        return ParsedMolecule(text, error=f"{shown}: {exc}", reason="unparsable")
    if mol.GetNumHeavyAtoms() == 0:
        return ParsedMolecule(text, error=f"{shown}: no heavy atoms", reason="empty")
    if mol.GetNumHeavyAtoms() > MAX_HEAVY_ATOMS * 3:
        return ParsedMolecule(text, error=f"{mol.GetNumHeavyAtoms()} heavy atoms; the limit is {MAX_HEAVY_ATOMS}",
                              reason="too large")
    if standardize_mol:
        mol = _standardized_or_original(mol)
    if mol.GetNumHeavyAtoms() > MAX_HEAVY_ATOMS:
        return ParsedMolecule(text, error=f"{mol.GetNumHeavyAtoms()} heavy atoms; the limit is {MAX_HEAVY_ATOMS}",
                              reason="too large")
    return ParsedMolecule(text, mol=mol, smiles=Chem.MolToSmiles(mol))


def to_mol(value, standardize_mol: bool = True):
    """An RDKit Mol from a SMILES/MOL block string or a Mol; None if it cannot be parsed."""
    if value is None:
        return None
    if not isinstance(value, str):
        return value
    return parse_molecule(value, standardize_mol).mol


def require_mol(value, standardize_mol: bool = True):
    """Like to_mol but raises InvalidMoleculeError with the reason."""
    if value is not None and not isinstance(value, str):
        return value
    parsed = parse_molecule(value or "", standardize_mol)
    if parsed.mol is None:
        raise InvalidMoleculeError(parsed.error or "invalid molecule", parsed.reason or "unparsable")
    return parsed.mol
