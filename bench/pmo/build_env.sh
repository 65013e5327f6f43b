#!/usr/bin/env bash
# Builds the pinned PMO environment (default bench/pmo/.venv) with TDC's oracles and litmol's design
# engine (installed --no-deps: the GA loop needs only mol_ga, RDKit and numpy).
#   bench/pmo/build_env.sh [VENV]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-$here/.venv}"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet -r "$here/requirements.txt"
"$venv/bin/pip" install --quiet --no-deps pytdc==1.1.15
"$venv/bin/pip" install --quiet --no-deps -e "$here/../.."
"$venv/bin/python" -c "from tdc import Oracle; print('qed(aspirin) =', round(Oracle('qed')('CC(=O)Oc1ccccc1C(=O)O'), 4))"
# drd2, gsk3b, jnk3: TDC downloads their classifiers from Dataverse; the same files ship in the molscore
# wheel (PyPI), so take them from there into $venv/oracle/ (run_pmo.py --oracle-dir; TDC reads ./oracle/)
mkdir -p "$venv/oracle"
if [ ! -f "$venv/oracle/jnk3_current.pkl" ]; then
    tmp="$(mktemp -d)"
    "$venv/bin/pip" download --quiet --no-deps molscore==1.9.5 -d "$tmp"
    "$venv/bin/python" - "$tmp" "$venv/oracle" <<'PY'
import sys, zipfile, pathlib
wheel = next(pathlib.Path(sys.argv[1]).glob("molscore-*.whl"))
with zipfile.ZipFile(wheel) as z:
    for name in ("drd2", "gsk3b", "jnk3"):
        data = z.read(f"molscore/data/models/molopt/{name}_current.pkl")
        (pathlib.Path(sys.argv[2]) / f"{name}_current.pkl").write_bytes(data)
PY
    rm -rf "$tmp"
fi
echo "PMO environment ready: $venv (run: $venv/bin/python bench/pmo/run_pmo.py --help)"
