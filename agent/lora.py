"""LoRA adapters for the llama.cpp engine: a PEFT adapter folder (adapter_config.json +
adapter_model.safetensors, what TRL/PEFT training writes) converted once into llama.cpp's GGUF
adapter format with the `gguf` package (llama.cpp's own writer), as llama.cpp's
convert_lora_to_gguf.py does: each target weight W gets `<name>.lora_a` (rank x in) and
`<name>.lora_b` (out x rank), and `adapter.lora.alpha` carries the scale (alpha / rank).

The transformers engine reads the PEFT folder directly (merged at load).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

PEFT_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<part>[AB])(?:\.default)?\.weight$")


class AdapterError(ValueError):
    """The adapter cannot be used (missing files, a module llama.cpp cannot map, a shape mismatch)."""


def peft_to_gguf(adapter: str | Path, out_dir: Path | None = None, architecture: str = "qwen2") -> Path:
    """The GGUF form of a PEFT LoRA adapter, converted once and cached by the adapter's checksum."""
    import gguf
    from safetensors.numpy import load_file

    folder = Path(adapter).expanduser()
    config_path, weights_path = folder / "adapter_config.json", folder / "adapter_model.safetensors"
    if not config_path.is_file() or not weights_path.is_file():
        raise AdapterError(f"{folder} is not a PEFT adapter (needs adapter_config.json and "
                           "adapter_model.safetensors)")
    config = json.loads(config_path.read_text())
    if config.get("peft_type", "LORA") != "LORA":
        raise AdapterError(f"{folder}: only LoRA adapters can run on llama.cpp, not {config.get('peft_type')}")
    digest = hashlib.sha256(config_path.read_bytes() + weights_path.read_bytes()).hexdigest()[:16]
    if out_dir is None:
        from .weights import llm_cache_dir

        out_dir = llm_cache_dir() / "adapters"
    out = out_dir / f"{folder.name}-{digest}.gguf"
    if out.is_file():
        return out
    tensors = load_file(str(weights_path))
    layers = 1 + max((int(m.group(1)) for k in tensors if (m := re.search(r"layers\.(\d+)\.", k))), default=0)
    arch = {v: k for k, v in gguf.MODEL_ARCH_NAMES.items()}[architecture]
    names = gguf.get_tensor_name_map(arch, layers)
    pairs: dict[str, dict[str, object]] = {}
    for key, value in tensors.items():
        m = PEFT_KEY.match(key)
        if m is None:
            raise AdapterError(f"{folder}: unexpected tensor {key} (only LoRA A/B weights are supported)")
        target = names.get_name(m.group("module"))
        if target is None:
            raise AdapterError(f"{folder}: llama.cpp has no tensor for {m.group('module')}")
        pairs.setdefault(target, {})[m.group("part")] = value.astype("float32")
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = out.with_suffix(".partial")
    writer = gguf.GGUFWriter(str(staging), architecture)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(config.get("lora_alpha", config.get("r", 8))))
    for target, parts in sorted(pairs.items()):
        if set(parts) != {"A", "B"}:
            raise AdapterError(f"{folder}: {target} lacks its lora_{'A' if 'A' not in parts else 'B'} weight")
        writer.add_tensor(f"{target}.weight.lora_a", parts["A"])
        writer.add_tensor(f"{target}.weight.lora_b", parts["B"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(staging, out)
    return out
