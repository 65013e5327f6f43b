"""Structural alerts: RDKit's PAINS, Brenk and NIH catalogs and medchem's alert collection, each
alert with its name, behind a substructure screen.

Matching ~2,500 SMARTS per molecule is the cost (RDKit: ~40 mol/s for all of them). Each alert's
query gets an RDKit pattern fingerprint; a query can only match a molecule whose own pattern
fingerprint contains all of the query's bits (the screen RDKit's SubstructLibrary uses), so only
the few alerts that pass the screen are matched atom by atom. Same results, several times faster
(checked against the unscreened catalogs on 10,000 MOSES molecules in tests and bench).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..rows import Alert

logger = logging.getLogger(__name__)

RDKIT_CATALOGS = ("PAINS", "BRENK", "NIH")
FP_SIZE = 2048
_PICKLE_MAGIC = b"\xef\xbe\xad\xde"  # RDKit's molecule pickle header


@dataclass(slots=True)
class AlertSet:
    """Alerts in report order, their entries, and packed query fingerprints (zeros = never screened out)."""

    catalogs: list[str]
    names: list[str]
    entries: list[Any]
    bits: np.ndarray  # (n_alerts, FP_SIZE // 64) uint64


def pattern_bits(query) -> np.ndarray:
    """RDKit pattern fingerprint (a molecule's or a query's) packed as uint64 words."""
    from rdkit import Chem

    bits = np.frombuffer(Chem.PatternFingerprint(query, fpSize=FP_SIZE).ToBitString().encode(), dtype=np.uint8)
    return np.packbits(bits - 48).view(np.uint64)


def _entry_query(entry):
    """The single SMARTS query inside a catalog entry, or None when it is not a plain one."""
    from rdkit import Chem

    blob = entry.Serialize()
    start = blob.find(_PICKLE_MAGIC)
    if start < 0:
        return None
    try:
        length = int(blob[:start].split()[-1])
    except (ValueError, IndexError):
        return None
    # recursive SMARTS ($(...)) nest pickles inside the query's; any pickle after it means a combined
    # matcher (and/or/not), which is never screened out
    if blob.find(_PICKLE_MAGIC, start + length) >= 0:
        return None
    try:
        return Chem.Mol(blob[start:start + length])
    except RuntimeError:
        return None


def _medchem_entries() -> list[tuple[str, str, Any, Any]]:
    """medchem's common alert collection (Glaxo, Dundee, BMS, MLSMR, ... toxicophores)."""
    try:
        import medchem
    except ImportError:  # optional: alerts from RDKit alone
        logger.warning("medchem not installed; its alert collection is skipped")
        return []
    import importlib.resources

    import pandas as pd
    from rdkit import Chem
    from rdkit.Chem.FilterCatalog import FilterCatalogEntry, SmartsMatcher

    table = pd.read_csv(str(importlib.resources.files(medchem) / "data" / "common_alerts_collection.csv"))
    out = []
    for row in table.itertuples(index=False):
        pattern = Chem.MolFromSmarts(str(row.smarts))
        if pattern is None:
            continue
        description = row.description if isinstance(row.description, str) and row.description else row.rule_id
        entry = FilterCatalogEntry(str(description), SmartsMatcher(str(description), pattern, int(row.mincount or 1)))
        out.append((f"medchem:{row.rule_set_name}", str(description), entry, pattern))
    return out


@functools.lru_cache(maxsize=2)
def alert_set(include_medchem: bool = True) -> AlertSet:
    from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

    rows: list[tuple[str, str, Any, Any]] = []
    for name in RDKIT_CATALOGS:
        params = FilterCatalogParams()
        params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, name))
        catalog = FilterCatalog(params)
        for i in range(catalog.GetNumEntries()):
            entry = catalog.GetEntryWithIdx(i)
            rows.append((name, entry.GetDescription(), entry, _entry_query(entry)))
    if include_medchem:
        rows += _medchem_entries()
    bits = np.zeros((len(rows), FP_SIZE // 64), dtype=np.uint64)
    for i, (_, _, _, query) in enumerate(rows):
        if query is not None:
            bits[i] = pattern_bits(query)
    return AlertSet([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], bits)


def find_alerts(mol, include_medchem: bool = True, screen: bool = True,
                bits: np.ndarray | None = None) -> list[Alert]:
    """Structural alerts matched by the molecule, PAINS/Brenk/NIH first.

    `bits`: the molecule's `pattern_bits` if already computed; `screen=False` matches every alert
    (the slow reference the screen is checked against)."""
    alerts = alert_set(include_medchem)
    if screen:
        mol_bits = pattern_bits(mol) if bits is None else bits
        candidates = np.flatnonzero(~np.any(alerts.bits & ~mol_bits, axis=1))
    else:
        candidates = range(len(alerts.entries))
    out: list[Alert] = []
    seen: set[tuple[str, str]] = set()
    for i in candidates:
        key = (alerts.catalogs[i], alerts.names[i])
        if key not in seen and alerts.entries[i].HasFilterMatch(mol):
            seen.add(key)
            out.append(Alert(*key))
    return out
