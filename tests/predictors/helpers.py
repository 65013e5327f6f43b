"""Shared by the predictor tests: `litmol` as a user runs it, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def litmol(*args: str, home: Path | None = None, url: str | None = None, **env: str) -> subprocess.CompletedProcess:
    """Run `python -m litmol.cli ARGS`; in-process prediction unless `url` names a predictor service."""
    environ = {k: v for k, v in os.environ.items() if k != "LITMOL_PREDICTOR_URL"} | env
    if home:
        environ["LITMOL_HOME"] = str(home)
    if url:
        environ["LITMOL_PREDICTOR_URL"] = url
    return subprocess.run([sys.executable, "-m", "litmol.cli", *args], capture_output=True, text=True,
                          env=environ, timeout=300)
