"""Drug data tables inside installed packages, read for the scripted question batches
(make_batches.py): B3DB blood-brain-barrier labels (qc-b3db), admet-ai's DrugBank approved-drug
table with ATC codes, and the lexicon's hand-curated synonyms; plus the name checks that keep a
question's drug the drug its source meant."""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from pathlib import Path
from typing import Any

MAX_SYNONYMS = 4  # names per drug in a list question's gold item


def package_file(package: str, *parts: str, install: str = "") -> Path:
    """A data file inside an installed package, found without importing it (admet_ai pulls in torch)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"these questions need the {package!r} package (pip install {install or package})")
    return Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)


def b3db_path() -> Path:
    """B3DB_classification.tsv inside the qc-b3db package."""
    return package_file("B3DB", "B3DB_classification.tsv", install="--no-deps qc-b3db")


def same_drug(name: str, entry: Any, inchi: Any = None) -> bool:
    """Whether a source's name really is this lexicon entry: the entry's preferred name (salt words
    ignored) or, failing that, the same structure (InChIKey connectivity). Guards against entries
    that merged several drugs' names (e.g. 'tafamidis' -> Meglumine)."""
    from litmol.predictors.chem.lexicon import normalize_name

    if normalize_name(name) == normalize_name(entry.name):
        return True
    if not isinstance(inchi, str) or not inchi.startswith("InChI="):
        return False
    from rdkit import Chem

    key = Chem.InchiToInchiKey(inchi)
    return bool(key) and key[:14] == entry.inchikey[:14]


def plain_name(name: str) -> str:
    """'Acetylsalicylic acid' -> 'acetylsalicylic acid'; names with inner capitals kept ('L-DOPA')."""
    return name.lower() if name[1:] == name[1:].lower() else name


def drugbank_table():
    """admet-ai's resources/data/drugbank_approved.csv: name, id, ATC codes and their names."""
    import pandas as pd

    path = package_file("admet_ai", "resources", "data", "drugbank_approved.csv", install="admet-ai")
    cols = ["name", "id", "atc", "atc_name_1", "atc_name_4"]
    return pd.read_csv(str(path), usecols=cols)[cols]


def atc_codes(value: Any) -> list[str]:
    return [c for c in str(value).split(";") if c and c != "nan"]


def curated_synonyms() -> dict[str, list[str]]:
    """normalized lexicon name -> the hand-curated synonyms (corpora/lexicon/synonyms.tsv) for it."""
    from litmol.predictors.chem.lexicon import SYNONYMS_FILE, normalize_name

    out: dict[str, list[str]] = defaultdict(list)
    for line in SYNONYMS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and "\t" in line:
            synonym, target = line.split("\t", 1)
            out[normalize_name(target)].append(synonym.strip())
    return out


def drug_names(name: str, curated: dict[str, list[str]]) -> list[str]:
    """A DrugBank name and its curated synonyms (not the lexicon's merged names: some are wrong)."""
    from litmol.predictors.chem.lexicon import normalize_name

    out = [plain_name(name)]
    for synonym in curated.get(normalize_name(name), []):
        if normalize_name(synonym) not in {normalize_name(o) for o in out}:
            out.append(synonym)
    return out[:MAX_SYNONYMS]
