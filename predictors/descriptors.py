"""RDKit descriptors, rule checks and structural alerts for one molecule."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PropertyInfo:
    """What a property means and its unit, as `litmol predictors list` shows it."""

    name: str
    unit: str
    description: str


DESCRIPTORS: tuple[PropertyInfo, ...] = (
    PropertyInfo("mw", "g/mol", "molecular weight (average)"),
    PropertyInfo("clogp", "log units", "Crippen octanol/water partition coefficient"),
    PropertyInfo("tpsa", "Å²", "topological polar surface area"),
    PropertyInfo("hbd", "count", "hydrogen-bond donors (Lipinski)"),
    PropertyInfo("hba", "count", "hydrogen-bond acceptors (Lipinski)"),
    PropertyInfo("rotatable_bonds", "count", "rotatable bonds"),
    PropertyInfo("rings", "count", "rings (SSSR)"),
    PropertyInfo("aromatic_rings", "count", "aromatic rings"),
    PropertyInfo("heavy_atoms", "count", "non-hydrogen atoms"),
    PropertyInfo("fsp3", "fraction", "fraction of sp3 carbons"),
    PropertyInfo("formal_charge", "e", "net formal charge"),
    PropertyInfo("qed", "0-1", "quantitative estimate of drug-likeness (Bickerton 2012)"),
    PropertyInfo("sa_score", "1-10", "synthetic accessibility (Ertl 2009; 1 easy, 10 hard)"),
    PropertyInfo("lipinski_violations", "count", "rule-of-5 violations (MW>500, cLogP>5, HBD>5, HBA>10)"),
    PropertyInfo("lipinski_pass", "bool", "at most one rule-of-5 violation"),
    PropertyInfo("veber_pass", "bool", "rotatable bonds <= 10 and TPSA <= 140 (Veber 2002)"),
)

ALERT_CATALOGS = ("PAINS", "BRENK", "NIH")


def compute_descriptors(mol) -> dict[str, Any]:
    """Descriptors and rule checks of an RDKit Mol (values rounded for display)."""
    from rdkit.Chem import QED, Crippen, Descriptors, Lipinski, rdMolDescriptors
    from rdkit.Contrib.SA_Score import sascorer

    mw = Descriptors.MolWt(mol)
    clogp = Crippen.MolLogP(mol)
    tpsa = rdMolDescriptors.CalcTPSA(mol)
    hbd = Lipinski.NumHDonors(mol)
    hba = Lipinski.NumHAcceptors(mol)
    rot = rdMolDescriptors.CalcNumRotatableBonds(mol)
    violations = int(mw > 500) + int(clogp > 5) + int(hbd > 5) + int(hba > 10)
    return {
        "mw": round(mw, 2),
        "clogp": round(clogp, 2),
        "tpsa": round(tpsa, 2),
        "hbd": hbd,
        "hba": hba,
        "rotatable_bonds": rot,
        "rings": rdMolDescriptors.CalcNumRings(mol),
        "aromatic_rings": rdMolDescriptors.CalcNumAromaticRings(mol),
        "heavy_atoms": mol.GetNumHeavyAtoms(),
        "fsp3": round(rdMolDescriptors.CalcFractionCSP3(mol), 3),
        "formal_charge": sum(a.GetFormalCharge() for a in mol.GetAtoms()),
        "qed": round(QED.qed(mol), 3),
        "sa_score": round(sascorer.calculateScore(mol), 2),
        "lipinski_violations": violations,
        "lipinski_pass": violations <= 1,
        "veber_pass": rot <= 10 and tpsa <= 140,
    }


@functools.lru_cache(maxsize=1)
def _rdkit_catalogs():
    from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

    catalogs = {}
    for name in ALERT_CATALOGS:
        params = FilterCatalogParams()
        params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, name))
        catalogs[name] = FilterCatalog(params)
    return catalogs


@functools.lru_cache(maxsize=1)
def _medchem_catalog():
    """medchem's common alert collection (Glaxo, Dundee, BMS, MLSMR, ... toxicophores) as one catalog."""
    try:
        import medchem
        from medchem.catalogs import NamedCatalogs  # noqa: F401
    except ImportError:  # optional: alerts from RDKit alone
        logger.warning("medchem not installed; its alert collection is skipped")
        return None
    import importlib.resources

    import pandas as pd
    from rdkit import Chem
    from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogEntry, SmartsMatcher

    path = importlib.resources.files(medchem) / "data" / "common_alerts_collection.csv"
    table = pd.read_csv(str(path))
    catalog = FilterCatalog()
    for row in table.itertuples(index=False):
        pattern = Chem.MolFromSmarts(str(row.smarts))
        if pattern is None:
            continue
        description = row.description if isinstance(row.description, str) and row.description else row.rule_id
        matcher = SmartsMatcher(str(description), pattern, int(row.mincount or 1))
        entry = FilterCatalogEntry(str(description), matcher)
        entry.SetProp("FilterSet", f"medchem:{row.rule_set_name}")
        catalog.AddEntry(entry)
    return catalog


def find_alerts(mol, include_medchem: bool = True) -> list[dict[str, str]]:
    """Structural alerts matched by the molecule: [{catalog, name}], PAINS/Brenk/NIH first."""
    alerts: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for name, catalog in _rdkit_catalogs().items():
        for entry in catalog.GetMatches(mol):
            key = (name, entry.GetDescription())
            if key not in seen:
                seen.add(key)
                alerts.append({"catalog": name, "name": entry.GetDescription()})
    if include_medchem:
        catalog = _medchem_catalog()
        if catalog is not None:
            for entry in catalog.GetMatches(mol):
                key = (entry.GetProp("FilterSet"), entry.GetDescription())
                if key not in seen:
                    seen.add(key)
                    alerts.append({"catalog": key[0], "name": key[1]})
    return alerts
