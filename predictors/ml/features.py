"""Molecule features for the trained models: Morgan count fingerprints + RDKit 2D descriptors,
and the bit fingerprints used for the applicability-domain score (max Tanimoto to training).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

FP_RADIUS = 2
FP_BITS = 2048
AD_BITS = 2048


@functools.lru_cache(maxsize=4)
def _morgan(radius: int, n_bits: int):
    from rdkit.Chem import rdFingerprintGenerator

    return rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)


@functools.lru_cache(maxsize=1)
def descriptor_names() -> tuple[str, ...]:
    """Names of RDKit's 2D descriptors (Descriptors._descList) in RDKit's order."""
    from rdkit.Chem import Descriptors

    return tuple(name for name, _ in Descriptors._descList)


def descriptor_vector(mol, names: Sequence[str] | None = None) -> np.ndarray:
    """RDKit 2D descriptors of one molecule as float64; NaN where RDKit fails or overflows."""
    from rdkit.Chem import Descriptors

    table = dict(Descriptors._descList)
    out = np.full(len(names or descriptor_names()), np.nan)
    for i, name in enumerate(names or descriptor_names()):
        func = table.get(name)
        if func is None:
            continue
        try:
            value = float(func(mol))
        except Exception:  # a few descriptors raise on odd valences; NaN is handled by the scaler
            continue
        if name == "Ipc":  # spans 1e0..1e80: only its log is usable
            value = math.log10(value + 1.0) if value >= 0 else math.nan
        out[i] = value if math.isfinite(value) else math.nan
    return out


def count_fingerprints(mols: Sequence[Any], radius: int = FP_RADIUS, n_bits: int = FP_BITS) -> np.ndarray:
    """Morgan count fingerprints, log1p-scaled, float32 (n, n_bits)."""
    gen = _morgan(radius, n_bits)
    out = np.zeros((len(mols), n_bits), dtype=np.float32)
    for i, mol in enumerate(mols):
        out[i] = gen.GetCountFingerprintAsNumPy(mol)
    return np.log1p(out)


def ad_fingerprints(mols: Sequence[Any]) -> np.ndarray:
    """Morgan radius-2 bit fingerprints packed to uint8 (n, AD_BITS/8) for Tanimoto search."""
    gen = _morgan(2, AD_BITS)
    bits = np.zeros((len(mols), AD_BITS), dtype=np.uint8)
    for i, mol in enumerate(mols):
        bits[i] = gen.GetFingerprintAsNumPy(mol)
    return np.packbits(bits, axis=1)


def max_tanimoto(queries: np.ndarray, reference: np.ndarray, block: int = 256) -> np.ndarray:
    """For each packed query fingerprint, the highest Tanimoto similarity to any reference one."""
    ref_counts = np.bitwise_count(reference).sum(axis=1, dtype=np.int32)
    out = np.zeros(len(queries), dtype=np.float32)
    for start in range(0, len(queries), block):
        q = queries[start:start + block]
        q_counts = np.bitwise_count(q).sum(axis=1, dtype=np.int32)
        inter = np.stack([np.bitwise_count(reference & row).sum(axis=1, dtype=np.int32) for row in q])
        union = q_counts[:, None] + ref_counts[None, :] - inter
        sim = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
        out[start:start + block] = sim.max(axis=1) if sim.shape[1] else 0.0
    return out


def featurize(mols: Sequence[Any], names: Sequence[str] | None = None,
              progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(count fingerprints, raw descriptor matrix) for the molecules, in order."""
    from tqdm.auto import tqdm

    fps = count_fingerprints(mols)
    names = list(names or descriptor_names())
    desc = np.zeros((len(mols), len(names)), dtype=np.float64)
    for i, mol in enumerate(tqdm(mols, desc="descriptors", unit="mol", disable=not progress)):
        desc[i] = descriptor_vector(mol, names)
    return fps, desc


class DescriptorScaler:
    """Clip to the training 0.5-99.5 % range, standardize, NaN -> 0 (the training mean)."""

    def __init__(self, lo: np.ndarray, hi: np.ndarray, mean: np.ndarray, std: np.ndarray) -> None:
        self.lo, self.hi, self.mean, self.std = lo, hi, mean, std

    @classmethod
    def fit(cls, desc: np.ndarray) -> DescriptorScaler:
        with np.errstate(all="ignore"):
            lo = np.nanpercentile(desc, 0.5, axis=0)
            hi = np.nanpercentile(desc, 99.5, axis=0)
            clipped = np.clip(desc, lo, hi)
            mean = np.nan_to_num(np.nanmean(clipped, axis=0))
            std = np.nan_to_num(np.nanstd(clipped, axis=0))
        lo, hi = np.nan_to_num(lo), np.nan_to_num(hi)
        std = np.where(std > 1e-9, std, 1.0)
        return cls(lo, hi, mean, std)

    def transform(self, desc: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            z = (np.clip(desc, self.lo, self.hi) - self.mean) / self.std
        return np.nan_to_num(z, nan=0.0).astype(np.float32)

    def tensors(self) -> dict[str, np.ndarray]:
        return {"scaler.lo": self.lo, "scaler.hi": self.hi, "scaler.mean": self.mean, "scaler.std": self.std}

    @classmethod
    def from_tensors(cls, tensors: dict[str, np.ndarray]) -> DescriptorScaler:
        return cls(*(np.asarray(tensors[f"scaler.{k}"], dtype=np.float64) for k in ("lo", "hi", "mean", "std")))
