"""Stopping a design run: Ctrl-C on a real `litmol propose` keeps and writes the best so far within
seconds, a time limit bounds the whole call, and batches are sized from measured timings."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest
from rdkit import Chem

from litmol.predictors.design import DesignConfig, propose
from litmol.predictors.design.stopping import (
    FIRST_BATCH,
    PROBE_BATCH,
    BatchTimer,
    DesignStopped,
    StopRule,
    catch_interrupts,
)

SIGINT_TO_EXIT_S = 10.0  # measured 4.6 s on 2 busy cores (load 6): the current batch, ranking, writing, exit


@pytest.mark.integration
def test_ctrl_c_on_a_real_run_writes_the_ranked_best_so_far_within_seconds(tmp_path):
    """RDKit 2026.03 leaves its own SIGINT handler installed after a substructure match: a plain Python
    handler never ran again and the run went on to its whole budget (about 3 minutes here)."""
    out = tmp_path / "best.csv"
    run = subprocess.Popen(
        [sys.executable, "-m", "litmol.cli", "propose", "--seed", "imatinib", "--objective", "qed>=0.5",
         "--objective", "sa<=4", "--budget", "3000", "-n", "5", "--json", "--output", str(out), "-q", "-v"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in run.stderr], daemon=True).start()
    stdout: list[str] = []
    reader = threading.Thread(target=lambda: stdout.append(run.stdout.read()), daemon=True)
    reader.start()
    err: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while not any("generation 1:" in line for line in err):  # it has scored and ranked real predictions
            assert time.monotonic() < deadline and run.poll() is None, "".join(err)
            with contextlib.suppress(queue.Empty):
                err.append(lines.get(timeout=1))
        sent = time.monotonic()
        run.send_signal(signal.SIGINT)
        status = run.wait(timeout=60)
        seconds = time.monotonic() - sent
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    reader.join(10)
    while not lines.empty():
        err.append(lines.get())
    text = "".join(err)
    assert status == 0 and seconds < SIGINT_TO_EXIT_S, (status, seconds, text[-2000:])
    assert "interrupted: best so far" in text
    shown = json.loads(stdout[0])
    assert 1 <= len(shown) <= 5 and [c["rank"] for c in shown] == list(range(1, len(shown) + 1))
    assert [c["score"] for c in shown] == sorted((c["score"] for c in shown), reverse=True)
    for c in shown:
        assert Chem.MolFromSmiles(c["smiles"]) is not None
        assert c["properties"]["qed"] >= 0.5 and c["properties"]["sa_score"] <= 4
    rows = list(csv.DictReader(out.open()))
    assert [r["smiles"] for r in rows] == [c["smiles"] for c in shown]
    scored = int(text.split(" scored (")[0].rsplit(" of ", 1)[1].replace(",", ""))
    assert scored < 3000  # stopped early, not at the end of its budget


def test_a_time_limit_bounds_the_whole_run_and_keeps_the_best_so_far():
    specs = ["qed>=0.5", "sa<=4"]
    propose(["imatinib"], specs, DesignConfig(n=3, budget=20))  # pools and models loaded once, as in a server
    started = time.monotonic()
    result = propose(["imatinib"], specs, DesignConfig(n=3, budget=5000, min_similarity=0.3, time_limit_s=4))
    seconds = time.monotonic() - started
    assert seconds <= 4 + 2 and result.interrupted and 0 < result.calls < 5000
    assert result.candidates and all(c.properties["qed"] >= 0.5 for c in result.candidates)
    assert result.seconds == pytest.approx(seconds, abs=0.5)


def test_the_batch_timer_separates_the_fixed_cost_from_the_cost_per_molecule():
    timer = BatchTimer()
    timer.record(8, 30.0)  # the first batch of a process loads models: not timed
    assert timer.warm and timer.fit() is None
    timer.record(32, 4.0 + 32 * 0.05)  # one size seen: half taken as fixed, larger batches proportional
    assert timer.predict(64) == pytest.approx(2 * 5.6) and timer.predict(16) == pytest.approx(5.6 * 0.75)
    timer.record(100, 4.0 + 100 * 0.05)  # admet-ai-like: seconds of fixed cost per call
    fixed, per = timer.fit()
    assert fixed == pytest.approx(4.0) and per == pytest.approx(0.05)
    assert timer.largest_within(6.0, 256) == 40 and timer.largest_within(3.0, 256) == 0
    assert timer.efficient_size() == 80


def test_batches_are_sized_to_end_before_the_deadline_or_the_run_stops():
    timer = BatchTimer()
    rule = StopRule(deadline=time.monotonic() + 10)
    assert rule.batch_size(500, 256, timer) == FIRST_BATCH
    timer.record(FIRST_BATCH, 20.0)
    assert rule.batch_size(500, 256, timer) == PROBE_BATCH
    timer.record(10, 1.0)
    timer.record(110, 3.0)  # 0.8 s + 0.02 s per molecule
    assert rule.batch_size(50, 256, timer) == 50
    assert 300 <= rule.batch_size(500, 500, timer) <= 360  # (10 / 1.25 - 0.8) / 0.02 = 360, minus time passing
    with pytest.raises(DesignStopped, match="no time"):
        StopRule(deadline=time.monotonic() + 0.9).batch_size(500, 256, timer)  # 0.82 s * 1.25 does not fit
    with pytest.raises(DesignStopped):
        StopRule(should_stop=lambda: True).batch_size(500, 256, timer)
    flagged = StopRule(should_stop=lambda: False)  # Ctrl-C possible: about 2 s batches
    assert flagged.batch_size(500, 256, timer) == 60


def test_ctrl_c_inside_the_block_sets_the_flag_and_a_second_one_calls_on_repeat():
    from rdkit import Chem as chem

    chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O").HasSubstructMatch(chem.MolFromSmarts("C(=O)O"))  # RDKit's handler
    repeats: list[int] = []
    with catch_interrupts(on_repeat=lambda: repeats.append(1)) as interrupted:
        watcher = next(t for t in threading.enumerate() if t.name == "litmol-sigint")
        signal.pthread_kill(watcher.ident, signal.SIGINT)
        assert interrupted.wait(5) and not repeats
        signal.pthread_kill(watcher.ident, signal.SIGINT)
        deadline = time.monotonic() + 5
        while not repeats and time.monotonic() < deadline:
            time.sleep(0.05)
        assert repeats == [1]
    assert not watcher.is_alive() and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    with pytest.raises(KeyboardInterrupt):  # Python's handler is back, RDKit's is gone
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
