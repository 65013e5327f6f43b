"""Inference engines behind the local model: each turns token ids into next-token logits and keeps
a KV cache whose longest common prefix with the next prompt is reused, so a question prefills only
its own tokens (the system prompt and the tool schemas, identical for every question, stay cached
from the previous call) and an agent step only what the last tool added.

Reuse never changes an answer: a prompt is always computed in the same chunks, [0, 64), [64, 128), ...
(`CHUNK` tokens from position 0), and only whole chunks computed that way are reused, so its logits are
the same bits whatever was asked before. Reusing any matching prefix instead (llama-cpp-python's own
rule) moved a prompt's logits with what came before, and on its server changed the first
tool of 2 of 8 dev questions (bench/llm_determinism.py): greedy picks at a near tie follow how the
prompt was split. The cost, up to 63 tokens recomputed, did not show in the time per turn.

    transformers  eager PyTorch fp32 over the dequantized safetensors (the reference, and the
                  format fine-tuning trains); LoRA adapters through PEFT.
    llama-cpp     llama.cpp (llama-cpp-python) on the shipped GGUF as it is (Q4_K_M); LoRA
                  adapters in GGUF form (lora.py converts a PEFT adapter).

`LocalLM` (local_lm.py) drives either one with the same greedy loop, grammar and stops, so the
two differ only in arithmetic. Logits come back as a 1-D float32 torch tensor.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ENGINES = ("transformers", "llama-cpp")
CHUNK = 64  # tokens per prefill step; measured on 2 cores: 200 tok/s (512: 221, 32: 159)


class EngineNotAvailableError(LookupError):
    """The engine asked for is not installed (the message names what to install)."""


class Engine(ABC):
    """Token ids in, next-token logits out, with a prefix-reusing KV cache."""

    name: str = ""
    quantization: str = ""

    def __init__(self) -> None:
        self.cached_ids: list[int] = []
        self.whole = 0  # cached positions computed as whole chunks from 0 (the part a prompt may reuse)
        self.load_s = 0.0

    @property
    @abstractmethod
    def vocab_size(self) -> int:
        """Rows of the output layer (the grammar's bitmask width)."""

    def prefill(self, ids: list[int]) -> tuple[Any, int]:
        """Logits after `ids`, reusing whole cached chunks of the prefix they share with the last
        prompt; computed in `CHUNK`-token steps from position 0, so the logits do not depend on what
        the cache held. Returns (logits, prefilled token count)."""
        keep = reusable(self.cached_ids, ids, self.whole)
        self.truncate(keep)
        logits, start = None, keep
        try:
            for start in range(keep, len(ids), CHUNK):
                logits = self._forward(ids[start:start + CHUNK])
        except BaseException:
            self.cached_ids, self.whole = list(ids[:start]), start  # what the engine holds now
            raise
        self.cached_ids = list(ids)
        self.whole = len(ids) - len(ids) % CHUNK
        return logits, len(ids) - keep

    def step(self, token: int) -> Any:
        """Logits after appending one token."""
        logits = self._forward([token])
        self.cached_ids.append(token)
        return logits

    def truncate(self, keep: int) -> None:
        """Drop the cached positions after the first `keep`."""
        if keep < len(self.cached_ids):
            self._truncate(keep)
            del self.cached_ids[keep:]
        self.whole = min(self.whole, keep)

    def reset(self) -> None:
        self.truncate(0)

    @abstractmethod
    def _forward(self, ids: list[int]) -> Any:
        """Run `ids` after the cached positions; the logits of the last one."""

    @abstractmethod
    def _truncate(self, keep: int) -> None:
        """Drop the engine's cached positions after the first `keep`."""

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name, "quantization": self.quantization}

    def warm_prefix(self, prefix: list[int], store: Path | None) -> str:
        """Make `prefix` (the system prompt and tool schemas) the cached state of a fresh engine:
        from a file in `store` when one was saved for these weights and tokens, else computed (and
        saved, for engines that can). Returns "memory", "disk" or "computed"."""
        if self.cached_ids[:len(prefix)] == prefix:
            return "memory"
        self.prefill(prefix)
        return "computed"


class TransformersEngine(Engine):
    """Eager PyTorch (fp32) over a transformers model folder or HF id; an optional PEFT adapter."""

    name = "transformers"

    def __init__(self, path: str, adapter: str | None = None, threads: int | None = None) -> None:
        super().__init__()
        import torch
        from transformers import AutoModelForCausalLM

        if threads:
            torch.set_num_threads(threads)
        t = time.perf_counter()
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        if adapter:
            from peft import PeftModel

            self.model = PeftModel.from_pretrained(self.model, adapter).merge_and_unload()
        self.model.eval()
        self.quantization = "fp32" + (" + LoRA (merged)" if adapter else "")
        self._cache = None
        self.load_s = time.perf_counter() - t

    @property
    def vocab_size(self) -> int:
        return int(self.model.config.vocab_size)

    def _forward(self, ids: list[int]):
        import torch
        from transformers import DynamicCache

        if self._cache is None:
            self._cache = DynamicCache()
        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([ids]), past_key_values=self._cache, use_cache=True)
        return out.logits[0, -1].float()

    def _truncate(self, keep: int) -> None:
        if self._cache is None:
            return
        if keep == 0:
            self._cache = None
            return
        extra = self._cache.get_seq_length() - keep
        if extra > 0:
            self._cache.crop(-extra)  # transformers' crop takes minus the count to drop


class LlamaCppEngine(Engine):
    """llama.cpp on a GGUF file (quantized as it is), through llama-cpp-python's low-level context."""

    name = "llama-cpp"

    def __init__(self, gguf: str, adapter: str | None = None, threads: int | None = None, n_ctx: int = 8192,
                 n_batch: int = 512) -> None:
        super().__init__()
        try:
            import llama_cpp
        except ImportError:
            raise EngineNotAvailableError(
                "the llama-cpp engine needs llama-cpp-python, which `make install` builds (or: pip install "
                "llama-cpp-python); or use --engine transformers") from None
        t = time.perf_counter()
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        self.gguf, self.adapter = gguf, adapter
        from .weights import quiet_native_stderr

        with quiet_native_stderr():  # a LoRA adapter makes llama.cpp print a line per tensor it cannot repack
            self._llama = llama_cpp.Llama(model_path=gguf, n_ctx=n_ctx, n_batch=n_batch, n_threads=threads or cores,
                                          n_threads_batch=threads or cores, lora_path=adapter, verbose=False)
        self._lib = llama_cpp
        self.quantization = _gguf_file_type(self._llama.metadata) + (" + LoRA" if adapter else "")
        self.load_s = time.perf_counter() - t

    @property
    def vocab_size(self) -> int:
        return int(self._llama.n_vocab())

    def _forward(self, ids: list[int]):
        import numpy as np
        import torch

        llama = self._llama
        if llama.n_tokens + len(ids) > llama.n_ctx():
            raise ValueError(f"the prompt needs {llama.n_tokens + len(ids):,} tokens; the context holds "
                             f"{llama.n_ctx():,}")
        llama.eval(ids)
        logits = np.ctypeslib.as_array(self._lib.llama_get_logits_ith(llama.ctx, -1), shape=(llama.n_vocab(),))
        return torch.from_numpy(logits.copy())

    def _truncate(self, keep: int) -> None:
        self._llama.n_tokens = keep  # the next eval drops the cache after n_tokens

    def warm_prefix(self, prefix: list[int], store: Path | None) -> str:
        if self.cached_ids[:len(prefix)] == prefix or store is None or self.cached_ids:
            return super().warm_prefix(prefix, store)
        import ctypes

        digest = hashlib.sha256(json.dumps([self.identity, CHUNK, prefix]).encode()).hexdigest()[:24]
        path, check = store / f"{digest}.state", store / f"{digest}.sha256"
        lib, llama = self._lib, self._llama
        if path.is_file() and check.is_file() and _sha256(path) == check.read_text().strip():
            tokens = (lib.llama_token * len(prefix))()
            count = ctypes.c_size_t(0)
            llama.n_tokens = 0
            llama._ctx.kv_cache_seq_rm(-1, 0, -1)
            if lib.llama_state_seq_load_file(llama.ctx, str(path).encode(), 0, tokens, len(prefix), ctypes.byref(count)) \
                    and list(tokens[:count.value]) == prefix:
                llama.n_tokens = len(prefix)
                llama.input_ids[:len(prefix)] = prefix
                self.cached_ids = list(prefix)
                self.whole = len(prefix) - len(prefix) % CHUNK  # it was saved after prefill(prefix)
                return "disk"
            logger.warning("the saved prompt state %s did not load; computing it again", path)
        self.prefill(prefix)
        store.mkdir(parents=True, exist_ok=True)
        staging = path.with_suffix(".partial")
        tokens = (lib.llama_token * len(prefix))(*prefix)
        if lib.llama_state_seq_save_file(llama.ctx, str(staging).encode(), 0, tokens, len(prefix)):
            os.replace(staging, path)
            check.write_text(_sha256(path))
        return "computed"

    @property
    def identity(self) -> list[Any]:
        """What a saved state depends on: the weights file (path, size, mtime) and the adapter."""
        stat = os.stat(self.gguf)
        return [self.gguf, stat.st_size, stat.st_mtime_ns, self.adapter]


def reusable(cached: list[int], ids: list[int], whole: int, chunk: int = CHUNK) -> int:
    """How many leading positions of `ids` a cache holding `cached` may keep: the common prefix, within
    the `whole` positions computed as whole chunks, cut to a chunk boundary, short of the last token
    (its logits are needed); always a multiple of `chunk`."""
    keep = min(common_prefix(cached, ids), whole, len(ids) - 1)
    return max(keep - keep % chunk, 0)


def common_prefix(a: list[int], b: list[int]) -> int:
    """Length of the longest common prefix of two token lists."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(16 << 20):
            digest.update(chunk)
    return digest.hexdigest()


GGUF_FILE_TYPES = {0: "F32", 1: "F16", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 2: "Q4_0", 3: "Q4_1", 10: "Q2_K",
                   12: "Q3_K_M", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 25: "IQ4_NL",
                   30: "IQ4_XS", 32: "BF16"}


def _gguf_file_type(metadata: dict[str, str]) -> str:
    value = metadata.get("general.file_type")
    try:
        return GGUF_FILE_TYPES.get(int(value), f"GGUF type {value}")
    except (TypeError, ValueError):
        return "GGUF"
