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
echo "PMO environment ready: $venv (run: $venv/bin/python bench/pmo/run_pmo.py --help)"
