"""Lazy public APIs: a package names what it exports and the submodule that holds each name;
the submodule is imported on first attribute access, so importing the package stays fast.

    _LAZY = {"build_index": "build", "PassageIndex": "index"}
    __getattr__ = lazy_getattr(__name__, _LAZY)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """Return a module-level ``__getattr__`` that loads ``table[name]`` (a submodule of
    ``package``, relative, without the leading dot) on first use and returns its ``name``.

    The table is read at each call, so names a package adds to it later are served too.
    Unknown names raise ``AttributeError`` as a plain module would.
    """

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f".{module}", package), name)

    return __getattr__
