"""Run litmol from another checkout with this venv (bench before/after runs): with LITMOL_CODE=DIR and this
folder on PYTHONPATH, the editable install's package map points at DIR instead of this tree. Python
imports `sitecustomize` after the venv's .pth files, so the map exists by then."""

import os
import sys

_code = os.environ.get("LITMOL_CODE")
if _code:
    for _name, _module in list(sys.modules.items()):
        if _name.startswith("__editable__") and _name.endswith("_finder") and hasattr(_module, "MAPPING"):
            _root = os.path.dirname(_module.MAPPING["litmol"])
            for _key, _path in list(_module.MAPPING.items()):
                _module.MAPPING[_key] = os.path.join(_code, os.path.relpath(_path, _root))
