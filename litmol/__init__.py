"""litmol: an offline-first assistant for drug discovery.

The installed distribution is one namespace. This folder is the small core every package may use:

    litmol.settings   one settings object with a section per package (litmol.toml < LITMOL_* variables)
    litmol.errors     the base error
    litmol.lazy       lazy public APIs (heavy modules load on first use)
    litmol.cli        the `litmol` command (root parser, one module per command group)

The packages (`litmol.retrieval`, `litmol.predictors`, `litmol.links`, `litmol.agent`, `litmol.ui`)
live in the top-level folders of the source tree and are mapped here by pyproject.toml.
"""

__version__ = "0.1.0"
