"""`litmol predict` as a user runs it: JSON contract, files with bad rows, exit codes."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA

pytestmark = pytest.mark.integration


def litmol(*args, home=None):
    env = dict(os.environ)
    if home:
        env["LITMOL_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "litmol.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_predict_json_contract_keeps_order_and_bad_rows():
    out = litmol("predict", "aspirin", "C1CC", "CCO", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["input"] for r in rows] == ["aspirin", "C1CC", "CCO"]
    for r in rows:
        assert {"input", "smiles", "valid", "error", "properties", "alerts"} <= set(r)
    assert rows[0]["valid"] and rows[0]["properties"]["mw"] == pytest.approx(180.16, abs=0.01)
    assert rows[0]["smiles"] == "CC(=O)Oc1ccccc1C(=O)O"
    assert not rows[1]["valid"] and "cannot parse" in rows[1]["error"]


def test_csv_file_with_bad_rows(tmp_path):
    out_path = tmp_path / "props.csv"
    out = litmol("predict", "--input", str(DATA / "molecules.csv"), "--output", str(out_path), "-q")
    assert out.returncode == 0, out.stderr
    with out_path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 16)]
    by_note = {r["note"]: r for r in rows}
    assert by_note["unclosed ring"]["valid"] == "False" and by_note["unclosed ring"]["error"]
    assert by_note["empty"]["valid"] == "False"
    assert by_note["sodium salicylate"]["smiles_std"] == "O=C(O)c1ccccc1O"
    assert by_note["a name instead of SMILES"]["resolved_name"] == "Atorvastatin"
    assert "PAINS:" in by_note["PAINS rhodanine"]["alerts"]
    assert float(by_note["caffeine"]["mw"]) == pytest.approx(194.19, abs=0.01)
    assert "6 invalid" not in out.stderr and "4 invalid" in out.stderr


def test_sdf_with_a_broken_record(tmp_path):
    from rdkit import Chem

    good = Chem.MolToMolBlock(Chem.MolFromSmiles("c1ccccc1O"))
    sdf = tmp_path / "in.sdf"
    sdf.write_text(good + "$$$$\nbroken\n  nonsense\n\nM  END\n$$$$\n" + good + "$$$$\n")
    out_path = tmp_path / "out.jsonl"
    out = litmol("predict", "--input", str(sdf), "--output", str(out_path), "-q")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert [r["valid"] for r in rows] == [True, False, True]
    assert rows[0]["smiles_std"] == "Oc1ccccc1"


@pytest.mark.parametrize("args, message", [
    (("predict",), "give SMILES"),
    (("predict", "CCO", "--properties", "mw,colour"), "unknown properties: 'colour'"),
    (("predict", "--input", "missing.csv", "--output", "x.csv"), "no such file"),
    (("predict", "--input", "x.csv"), "--output"),
])
def test_predict_usage_errors(args, message):
    out = litmol(*args)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_predictors_list_has_units():
    out = litmol("predictors", "list", "--json")
    listing = json.loads(out.stdout)
    tpsa = next(p for p in listing if p["property"] == "tpsa")
    assert tpsa["unit"] == "Å²" and tpsa["predictor"] == "rdkit"


# -- issue 15, item 8 ------------------------------------------------------------------------
def test_every_input_invalid_exits_2_and_still_prints_every_row(tmp_path):
    out = litmol("predict", "C1CC", "xq#bad", "--json")
    assert out.returncode == 2
    rows = json.loads(out.stdout)
    assert [(r["input"], r["valid"]) for r in rows] == [("C1CC", False), ("xq#bad", False)]
    assert out.stderr.count("\n") == 1 and "none of the 2 inputs is a valid molecule" in out.stderr
    human = litmol("predict", "C1CC", "xq#bad")
    assert human.returncode == 2 and human.stdout.count("INVALID") == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("smiles\nC1CC\nxq#bad\n")
    out_path = tmp_path / "out.csv"
    out = litmol("predict", "--input", str(bad), "--output", str(out_path), "-q")
    assert out.returncode == 2 and "none of the 2 rows" in out.stderr and out.stderr.count("\n") == 1
    with out_path.open() as fh:
        assert [r["valid"] for r in csv.DictReader(fh)] == ["False", "False"]


def _molecules(n: int) -> list[str]:
    with (DATA / "molecules.csv").open() as fh:
        smiles = [r["smiles"] for r in csv.DictReader(fh) if r["smiles"]]
    return (smiles * (n // len(smiles) + 1))[:n]


def test_predict_into_a_closed_pipe_exits_quietly():
    proc = subprocess.Popen([sys.executable, "-m", "litmol.cli", "predict", *_molecules(300), "--alerts", "none"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"CC(=O)Oc1ccccc1C(=O)O")
    proc.stdout.close()  # like `| head -1`
    assert proc.wait(timeout=300) == 141
    assert proc.stderr.read() == b""


def _process_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, start time) from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            table[int(entry)] = (int(fields[1]), fields[0], fields[19])
    return table


def _descendants(root: int) -> dict[int, tuple[int, str]]:
    """pid -> (depth below root, start time) of every living descendant of `root`."""
    table = _process_table()
    found, frontier, depth = {}, [root], 0
    while frontier:
        depth += 1
        frontier = [pid for pid, (ppid, state, _) in table.items() if ppid in frontier and state != "Z"]
        found.update({pid: (depth, table[pid][2]) for pid in frontier})
    return found


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads the process table from /proc")
def test_sigterm_during_a_parallel_batch_leaves_no_worker_processes(tmp_path):
    import signal
    import time

    big = tmp_path / "big.csv"
    big.write_text("smiles\n" + "\n".join(_molecules(20_000)) + "\n")
    env = dict(os.environ, LITMOL_PREDICT_WORKERS="2")
    proc = subprocess.Popen([sys.executable, "-m", "litmol.cli", "-q", "predict", "--input", str(big),
                             "--output", str(tmp_path / "out.csv")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen: dict[int, tuple[int, str]] = {}
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            seen.update(_descendants(proc.pid))
            if sum(depth >= 2 for depth, _ in seen.values()) >= 2:  # workers are the forkserver's children
                break
            time.sleep(0.1)
        assert sum(depth >= 2 for depth, _ in seen.values()) >= 2, "no worker processes appeared"
        time.sleep(1.0)  # let the workers get busy with the batch
        seen.update(_descendants(proc.pid))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) in (-signal.SIGTERM, 128 + signal.SIGTERM)
        deadline = time.time() + 20
        while time.time() < deadline:
            table = _process_table()
            alive = [pid for pid, (_, start) in seen.items()
                     if pid in table and table[pid][2] == start and table[pid][1] != "Z"]
            if not alive:
                break
            time.sleep(0.2)
        assert alive == [], f"processes left running after SIGTERM: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()
        table = _process_table()
        for pid, (_, start) in seen.items():  # never leave strays on the machine, even when failing
            if pid in table and table[pid][2] == start:
                os.kill(pid, signal.SIGKILL)


# -- issue 32: formula injection, one output format ----------------------------------------------
HOSTILE = '=HYPERLINK("http://x","y")'


def hostile_library(path: Path) -> Path:
    """The test molecules with an extra text column, plus rows whose cells a spreadsheet would run."""
    with (DATA / "molecules.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    for i, row in enumerate(rows):
        row["logp_measured"] = "-1.5" if i == 0 else ""
    rows += [{"id": "16", "smiles": "CCO", "note": HOSTILE, "logp_measured": "-0.31"},
             {"id": "17", "smiles": "@SUM(1+1)*cmd|' /C calc'!A0", "note": "+attack", "logp_measured": ""},
             {"id": "18", "smiles": "aspirin", "note": "\t=1+1", "logp_measured": ""}]
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_csv_output_escapes_formulas_but_not_numbers_or_smiles(tmp_path):
    library = hostile_library(tmp_path / "library.csv")
    out_path = tmp_path / "out.csv"
    out = litmol("predict", "--input", str(library), "--output", str(out_path), "-q")
    assert out.returncode == 0, out.stderr
    with out_path.open() as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    assert rows["16"]["note"] == "'" + HOSTILE and rows["16"]["smiles_std"] == "CCO"
    assert rows["17"]["smiles"] == "'@SUM(1+1)*cmd|' /C calc'!A0" and rows["17"]["valid"] == "False"
    assert rows["17"]["note"] == "'+attack" and rows["18"]["note"] == "'\t=1+1"
    assert rows["18"]["resolved_name"] == "Acetylsalicylic acid" and rows["18"]["smiles_std"] == "CC(=O)Oc1ccccc1C(=O)O"
    assert rows["1"]["logp_measured"] == "-1.5" and rows["16"]["logp_measured"] == "-0.31"  # numbers stay
    assert float(rows["2"]["clogp"]) == pytest.approx(-1.24)  # metformin: a negative value, not text
    with library.open() as fh:  # every valid SMILES written as it was given
        given = {r["id"]: r["smiles"] for r in csv.DictReader(fh)}
    assert all(rows[i]["smiles"] == given[i] for i in rows if rows[i]["valid"] == "True")
    jsonl = tmp_path / "out.jsonl"  # JSON Lines is not opened as formulas: the exact text
    assert litmol("predict", "--input", str(library), "--output", str(jsonl), "-q").returncode == 0
    by_id = {r["id"]: r for r in map(json.loads, jsonl.read_text().splitlines())}
    assert by_id["16"]["note"] == HOSTILE and by_id["17"]["smiles"].startswith("@SUM")
    # every row has every column: an invalid row's properties are null, as in the Ray path's file
    assert set(by_id["17"]) == set(by_id["1"]) and by_id["17"]["mw"] is None and by_id["1"]["mw"] == 180.16
