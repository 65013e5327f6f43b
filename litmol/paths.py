"""Fixed places in the source tree (state under LITMOL_HOME comes from litmol.settings)."""

from __future__ import annotations

from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[1]  # the checkout: agent/, corpora/, litmol/, ...
CORPORA = SOURCE_ROOT / "corpora"  # lexicons, question sets, answer keys (small files)
