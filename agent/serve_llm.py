"""`litmol serve llm`: the agent's model behind an OpenAI-compatible server, run by the engine's own server —
llama-cpp-python's (`python -m llama_cpp.server`) on the shipped GGUF on CPU, vLLM's (`vllm serve`) on a GPU.
No serving code of ours: this module resolves the weights and adapter the local backend would load, picks
the engine, prints what a client sets, and runs the server in the foreground. Two changes to llama.cpp's
server (agent/llama_server.py): its KV prefix reuse (an answer never depends on the request before it), and
a guard that answers a malformed request (a bad GBNF grammar, given or built from a JSON schema, a body over
4 MB, NaN, unknown token ids) with 400/413 before it reaches llama.cpp's native code, which crashed on them.

The served model is named `litmol-<model>` (`-lora` appended with an adapter: the openai backend then uses
the compact prompt the adapter was trained on). Clients get valid tool calls from the server's structured
outputs (agent/served_chat.py), which both servers implement.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)


class LlmServeError(RuntimeError):
    """The server cannot start as asked (one line for the command line)."""


def served_name(model: str, adapter: str | None) -> str:
    base = Path(model).stem if model.endswith(".gguf") else Path(model).name or model
    return f"litmol-{base.lower()}" + ("-lora" if adapter else "")


def pick_engine(engine: str) -> str:
    """auto: vllm when it is importable and torch sees a GPU, else llama-cpp."""
    if engine != "auto":
        return engine
    if importlib.util.find_spec("vllm") is not None:
        import torch

        if torch.cuda.is_available():
            return "vllm"
    return "llama-cpp"


def server_command(model: str = "0.5b", adapter: str | None = None, engine: str = "auto",
                   quantization: str = "shipped", host: str = "127.0.0.1", port: int = 8300, n_ctx: int = 8192,
                   threads: int | None = None, api_key: str | None = None) -> tuple[list[str], str, str]:
    """(argv of the server, the engine, the served model name); weights are resolved (and joined once) here."""
    from .weights import ModelNotAvailableError, resolve_adapter, resolve_model

    engine = pick_engine(engine)
    adapter_path = resolve_adapter(adapter, model)
    name = served_name(model, adapter_path)
    try:
        if engine == "llama-cpp":
            if importlib.util.find_spec("llama_cpp.server") is None or importlib.util.find_spec("uvicorn") is None:
                raise LlmServeError("llama.cpp's server needs llama-cpp-python[server] (`make install` installs it)")
            files = resolve_model(model, "llama-cpp", quantization)
            from .engines import CHUNK

            argv = [sys.executable, "-m", "litmol.agent.llama_server", "--model", files.weights, "--model_alias",
                    name, "--host", host, "--port", str(port), "--n_ctx", str(n_ctx), "--n_batch", str(CHUNK),
                    "--verbose", "False"]
            if threads:
                argv += ["--n_threads", str(threads), "--n_threads_batch", str(threads)]
            if adapter_path:
                from .lora import peft_to_gguf

                gguf = adapter_path if adapter_path.endswith(".gguf") else str(peft_to_gguf(adapter_path))
                argv += ["--lora_path", gguf]
            if api_key:
                argv += ["--api_key", api_key]
            return argv, engine, name
        if engine == "vllm":
            if shutil.which("vllm") is None:
                raise LlmServeError("the vllm engine needs vLLM (pip install vllm, on a machine with a GPU)")
            weights = resolve_model(model, "transformers").weights  # vLLM reads safetensors folders or HF ids
            argv = ["vllm", "serve", weights, "--served-model-name", name, "--host", host, "--port", str(port),
                    "--max-model-len", str(n_ctx), "--generation-config", "vllm"]
            if adapter_path:
                argv += ["--enable-lora", "--lora-modules", f"{name}={adapter_path}", "--max-lora-rank", "64"]
            if api_key:
                argv += ["--api-key", api_key]
            return argv, engine, name
    except ModelNotAvailableError as exc:
        raise LlmServeError(str(exc)) from None
    raise LlmServeError(f"unknown engine {engine!r}: auto, llama-cpp or vllm")


def serve_llm(announce: Callable[[str], None] = logger.info, **options) -> int:
    """Run the server in the foreground until it stops (Ctrl-C); returns its exit status. `announce` gets
    the lines telling clients where the server is and how to point the agent at it (the CLI prints them)."""
    argv, engine, name = server_command(**options)
    host, port = options.get("host", "127.0.0.1"), options.get("port", 8300)
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    announce(f"litmol serve llm: {engine} serving {name!r} at http://{host}:{port}/v1\n"
             f"clients: LITMOL_AGENT_BACKEND=openai LITMOL_OPENAI_BASE_URL=http://{shown}:{port}/v1 "
             f"LITMOL_OPENAI_MODEL={name}" + (" OPENAI_API_KEY=<the key>" if options.get("api_key") else "") +
             "\n  or: litmol ask/chat/eval run --backend openai --base-url "
             f"http://{shown}:{port}/v1 --model {name}")
    # the server replaces this process: a signal to it (Ctrl-C, a supervisor's SIGTERM) reaches the server
    os.execvp(argv[0], argv)
    return 0  # not reached
