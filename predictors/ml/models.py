"""Fingerprint + descriptor MLP ensembles: uncertainty from member spread, applicability domain
from the max Tanimoto similarity to the training molecules, saved as safetensors + JSON card.

Why this model: on 2 CPU cores a Chemprop D-MPNN costs minutes per epoch on these sets; an MLP
on Morgan counts + RDKit descriptors trains five members in minutes, predicts hundreds of
molecules per second, and reaches the accuracy targets on scaffold splits (see the cards).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from litmol.settings import PredictorSettings

from ..errors import PredictorError
from .features import (
    DescriptorScaler,
    ad_fingerprints,
    count_fingerprints,
    descriptor_vector,
    max_tanimoto,
)

logger = logging.getLogger(__name__)

WEIGHTS_FILE, CARD_FILE, META_FILE = "model.safetensors", "README.md", "meta.json"
FORMAT_VERSION = 1


def torch_device(requested: str = "auto") -> str:
    """cpu or cuda for a device setting (auto: cuda when torch sees a GPU, else cpu)."""
    if requested in ("cpu", "cuda"):
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(slots=True)
class TrainConfig:
    """Hyper-parameters of one ensemble (the defaults were chosen on the validation splits)."""

    members: int = 5
    hidden: tuple[int, ...] = (512, 128)
    dropout: float = 0.2
    lr: float = 1e-3
    weight_decay: float = 1e-5
    batch_size: int = 64
    max_epochs: int = 120
    patience: int = 15
    seed: int = 0


def _network(n_in: int, hidden: tuple[int, ...], dropout: float):
    import torch.nn as nn

    layers: list[nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
        width = h
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def _train_member(x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, task: str,
                  cfg: TrainConfig, seed: int) -> tuple[Any, int, float]:
    """Train one member with early stopping on the validation loss; returns (net, epochs, val loss)."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = _network(x.shape[1], cfg.hidden, cfg.dropout)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    loss_fn = torch.nn.BCEWithLogitsLoss() if task == "classification" else torch.nn.MSELoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.float32))
    xv, yv = torch.from_numpy(x_val), torch.from_numpy(y_val.astype(np.float32))
    best, best_state, best_epoch, epoch = math.inf, None, 0, 0
    for epoch in range(1, cfg.max_epochs + 1):
        net.train()
        order = torch.from_numpy(rng.permutation(len(x)))
        for start in range(0, len(x), cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            if len(idx) < 2:
                continue
            opt.zero_grad()
            loss = loss_fn(net(xt[idx]).squeeze(-1), yt[idx])
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            val = float(loss_fn(net(xv).squeeze(-1), yv))
        if val < best - 1e-4:
            best, best_epoch = val, epoch
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        elif epoch - best_epoch >= cfg.patience:
            break
    net.load_state_dict(best_state)
    net.eval()
    return net, best_epoch, best


class EnsembleModel:
    """A trained ensemble with its feature scaler, target scaling and training fingerprints."""

    def __init__(self, meta: dict[str, Any], tensors: dict[str, np.ndarray], device: str | None = None,
                 settings: PredictorSettings | None = None) -> None:
        self.meta = meta
        self.tensors = tensors
        self.scaler = DescriptorScaler.from_tensors(tensors)
        self.train_fps = tensors["ad.train_fps"]
        self.settings = settings
        self._nets: list[Any] | None = None
        self._device = device

    @property
    def device(self) -> str:
        """`device` if given, else PredictorSettings().device (the service sets it with --device);
        auto: cuda when torch sees a GPU, else cpu."""
        if self._device is None:
            self._device = torch_device((self.settings or PredictorSettings()).device)
        return self._device

    # -- properties --------------------------------------------------------------------------
    @property
    def task(self) -> str:
        return self.meta["task"]

    @property
    def property_name(self) -> str:
        return self.meta["property"]

    # -- building ----------------------------------------------------------------------------
    @classmethod
    def fit(cls, mols: list[Any], y: np.ndarray, val_mols: list[Any], y_val: np.ndarray, task: str,
            meta: dict[str, Any], cfg: TrainConfig | None = None, progress: bool = False) -> EnsembleModel:
        import torch
        from tqdm.auto import tqdm

        cfg = cfg or TrainConfig()
        names = list(meta.setdefault("descriptors", list(_names())))
        fp, desc = _features(mols, names)
        fp_val, desc_val = _features(val_mols, names)
        scaler = DescriptorScaler.fit(desc)
        x = np.hstack([fp, scaler.transform(desc)])
        x_val = np.hstack([fp_val, scaler.transform(desc_val)])
        y_mean, y_std = (float(np.mean(y)), float(np.std(y)) or 1.0) if task == "regression" else (0.0, 1.0)
        tensors: dict[str, np.ndarray] = scaler.tensors() | {"ad.train_fps": ad_fingerprints(mols)}
        members = []
        for m in tqdm(range(cfg.members), desc="ensemble members", unit="net", disable=not progress):
            net, epochs, val_loss = _train_member(x, (y - y_mean) / y_std, x_val, (y_val - y_mean) / y_std,
                                                  task, cfg, seed=cfg.seed * 1000 + m)
            members.append({"epochs": epochs, "val_loss": round(val_loss, 5)})
            for k, v in net.state_dict().items():
                # stored as float16; keep the rounded weights so the saved model predicts identically
                tensors[f"member{m}.{k}"] = v.numpy().astype(np.float16).astype(np.float32)
        meta |= {"format": FORMAT_VERSION, "task": task, "members": cfg.members, "hidden": list(cfg.hidden),
                 "dropout": cfg.dropout, "y_mean": y_mean, "y_std": y_std, "n_train": len(mols),
                 "fp": {"kind": "morgan-count", "radius": 2, "bits": fp.shape[1]},
                 "train": {"lr": cfg.lr, "weight_decay": cfg.weight_decay, "batch_size": cfg.batch_size,
                           "max_epochs": cfg.max_epochs, "patience": cfg.patience, "seed": cfg.seed,
                           "member_runs": members}}
        model = cls(meta, tensors)
        if task == "classification":
            model.meta["temperature"] = model._fit_temperature(x_val, y_val)
        del torch
        return model

    def _fit_temperature(self, x_val: np.ndarray, y_val: np.ndarray) -> float:
        """Temperature for the mean member logit that minimizes validation log loss (calibration)."""
        logits = self._member_outputs(x_val).mean(axis=0)
        best_t, best_loss = 1.0, math.inf
        for t in np.exp(np.linspace(math.log(0.25), math.log(4.0), 81)):
            p = np.clip(1 / (1 + np.exp(-logits / t)), 1e-7, 1 - 1e-7)
            loss = float(-np.mean(y_val * np.log(p) + (1 - y_val) * np.log(1 - p)))
            if loss < best_loss:
                best_t, best_loss = float(t), loss
        return round(best_t, 4)

    # -- inference ---------------------------------------------------------------------------
    def _load_nets(self) -> list[Any]:
        if self._nets is None:
            import torch

            n_in = self.tensors["member0.0.weight"].shape[1]
            nets = []
            for m in range(self.meta["members"]):
                net = _network(n_in, tuple(self.meta["hidden"]), self.meta["dropout"])
                state = {k.split(".", 1)[1]: torch.from_numpy(np.asarray(v, dtype=np.float32))
                         for k, v in self.tensors.items() if k.startswith(f"member{m}.")}
                net.load_state_dict(state)
                net.eval()
                nets.append(net.to(self.device))
            self._nets = nets
        return self._nets

    def _member_outputs(self, x: np.ndarray) -> np.ndarray:
        import torch

        nets = self._load_nets()
        with torch.inference_mode():
            xt = torch.from_numpy(x).to(self.device)
            return np.stack([net(xt).squeeze(-1).float().cpu().numpy() for net in nets])

    def featurize(self, mols: list[Any]) -> np.ndarray:
        fp, desc = _features(mols, self.meta["descriptors"])
        return np.hstack([fp, self.scaler.transform(desc)])

    def predict(self, mols: list[Any]) -> dict[str, np.ndarray]:
        """{"value", "std", "ad"} per molecule: prediction (probability for classifiers), member
        spread (same unit), max Tanimoto to the training set (0-1)."""
        if not mols:
            return {"value": np.zeros(0), "std": np.zeros(0), "ad": np.zeros(0)}
        out = self._member_outputs(self.featurize(mols))
        if self.task == "classification":
            t = float(self.meta.get("temperature", 1.0))
            value = 1 / (1 + np.exp(-out.mean(axis=0) / t))
            std = (1 / (1 + np.exp(-out / t))).std(axis=0)
        else:
            out = out * self.meta["y_std"] + self.meta["y_mean"]
            value, std = out.mean(axis=0), out.std(axis=0)
        return {"value": value, "std": std, "ad": max_tanimoto(ad_fingerprints(mols), self.train_fps)}

    # -- persistence -------------------------------------------------------------------------
    def save(self, directory: Path) -> Path:
        from safetensors.numpy import save_file

        directory.mkdir(parents=True, exist_ok=True)
        tensors = {k: (v.astype(np.float16) if k.startswith("member") else v) for k, v in self.tensors.items()}
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(directory / WEIGHTS_FILE),
                  metadata={"litmol": json.dumps({"property": self.property_name, "format": FORMAT_VERSION})})
        (directory / META_FILE).write_text(json.dumps(self.meta, indent=1) + "\n")
        return directory

    @classmethod
    def load(cls, directory: Path, device: str | None = None) -> EnsembleModel:
        from safetensors.numpy import load_file

        weights, meta_path = directory / WEIGHTS_FILE, directory / META_FILE
        if not weights.is_file() or not meta_path.is_file():
            raise PredictorError(f"{directory}: not a trained model (needs {WEIGHTS_FILE} and {META_FILE})")
        try:
            meta = json.loads(meta_path.read_text())
            tensors = load_file(str(weights))
        except Exception as exc:  # truncated or foreign files
            raise PredictorError(f"{directory}: cannot load model: {exc}") from exc
        if meta.get("format") != FORMAT_VERSION:
            raise PredictorError(f"{directory}: model format {meta.get('format')}, expected {FORMAT_VERSION}")
        missing = [n for n in meta["descriptors"] if n not in _names()]
        if missing:
            raise PredictorError(f"{directory}: this RDKit lacks descriptors {missing[:5]}; retrain the model")
        return cls(meta, tensors, device)


def _names() -> tuple[str, ...]:
    from .features import descriptor_names

    return descriptor_names()


def _features(mols: list[Any], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    from ..chem.mol import quiet_rdkit

    with quiet_rdkit():  # a few descriptors complain about hypervalent atoms on stderr
        fp = count_fingerprints(mols)
        desc = np.stack([descriptor_vector(m, names) for m in mols]) if mols else np.zeros((0, len(names)))
    return fp, desc
