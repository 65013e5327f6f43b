"""What the app offers a browser, set by the operator: the chat models (backend, model, server URL)
a caller may pick by name. A caller never names a URL or a backend itself, so the operator's API
key (OPENAI_API_KEY) only ever goes to a server the operator configured.

Set at launch (`litmol ui --backend openai --base-url URL --model NAME` adds that server) or with
`LITMOL_UI_ENDPOINTS='[{"name": "team", "backend": "openai", "base_url": "http://10.0.0.5:8000/v1",
"model": "qwen"}]'`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_MODELS = ("0.5b", "1.5b")


class ChatEndpoint(BaseModel):
    """One chat model the app may use, chosen in the browser by its name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80, description="What the browser shows and sends.")
    backend: Literal["local", "openai"] = Field(description="local: on this machine; openai: a server.")
    model: str | None = Field(default=None, description="Local model (0.5b, 1.5b, a folder) or the server's name.")
    base_url: str | None = Field(default=None, description="The OpenAI-compatible server (openai backend only).")

    @field_validator("base_url")
    @classmethod
    def _http_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, not {value[:40]!r}")
        return value


class AppSettings(BaseSettings):
    """The operator's settings for `litmol ui` (environment: LITMOL_UI_*)."""

    model_config = SettingsConfigDict(env_prefix="LITMOL_UI_", extra="forbid")

    endpoints: list[ChatEndpoint] = Field(
        default_factory=list, description="Extra chat models offered besides the local ones (JSON list).")
    local_models: list[str] = Field(default=list(LOCAL_MODELS), description="Local models offered by name.")


def default_endpoints(default_model: str = "0.5b", extra: list[ChatEndpoint] | None = None,
                      settings: AppSettings | None = None) -> list[ChatEndpoint]:
    """The allow-list, default first: the operator's `extra` servers (from the command line), the
    default local model, the other local models, then the servers from the settings."""
    settings = settings or AppSettings()
    names = list(dict.fromkeys([default_model, *settings.local_models]))
    out: list[ChatEndpoint] = []
    for e in [*(extra or []), *(ChatEndpoint(name=n, backend="local", model=n) for n in names), *settings.endpoints]:
        if all(e.name != o.name for o in out):
            out.append(e)
    return out
