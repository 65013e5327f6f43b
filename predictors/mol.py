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

from .errors import InvalidMoleculeError

logger = logging.getLogger(__name__)

MAX_INPUT_CHARS = 5_000
MAX_HEAVY_ATOMS = 150


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


def parse_molecule(text: str, standardize_mol: bool = True) -> ParsedMolecule:
    """Parse a SMILES or MOL block into a sanitized, standardized molecule (never raises)."""
    from rdkit import Chem

    text = text or ""
    raw = text.rstrip() + "\n" if looks_like_molblock(text) else text.strip()  # a MOL header may start blank
    shown = raw.strip() if len(raw) <= 80 else raw.strip()[:77] + "..."
    if not raw.strip():
        return ParsedMolecule(text, error="empty input", reason="empty")
    if len(raw) > MAX_INPUT_CHARS:
        return ParsedMolecule(text, error=f"input longer than {MAX_INPUT_CHARS} characters", reason="too large")
    mol = _raw_mol(raw)
    if mol is None:
        return ParsedMolecule(text, error=f"cannot parse {shown!r} as SMILES or MOL block", reason="unparsable")
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
