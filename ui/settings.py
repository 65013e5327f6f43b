"""What the app offers a browser, set by the operator: the chat models (backend, model, server URL)
a caller may pick by name. A caller never names a URL or a backend itself, so the operator's API
key (OPENAI_API_KEY) only ever goes to a server the operator configured.

Set at launch (`litmol ui --backend openai --base-url URL --model NAME` adds that server) or with
`LITMOL_UI_ENDPOINTS='[{"name": "team", "backend": "openai", "base_url": "http://10.0.0.5:8000/v1",
"model": "qwen"}]'`.
"""

from __future__ import annotations

from litmol.settings import LOCAL_MODELS, ChatEndpoint, UISettings

__all__ = ["LOCAL_MODELS", "ChatEndpoint", "UISettings", "default_endpoints"]


def default_endpoints(default_model: str = "0.5b", extra: list[ChatEndpoint] | None = None,
                      settings: UISettings | None = None) -> list[ChatEndpoint]:
    """The allow-list, default first: the operator's `extra` servers (from the command line), the
    default local model, the other local models, then the servers from the settings."""
    settings = settings or UISettings()
    names = list(dict.fromkeys([default_model, *settings.local_models]))
    out: list[ChatEndpoint] = []
    for e in [*(extra or []), *(ChatEndpoint(name=n, backend="local", model=n) for n in names), *settings.endpoints]:
        if all(e.name != o.name for o in out):
            out.append(e)
    return out
