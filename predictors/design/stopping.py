"""When a design run stops early: a time limit, a caller's stop (Ctrl-C), and batch sizes that let it.

A run stops between oracle batches and between the GA's steps, never inside a prediction, so the oracle
scores in batches sized to stop in time: `BatchTimer` fits the seconds of the batches this process has
scored for the same properties (a fixed cost per call plus a cost per molecule; admet-ai's fixed cost is
seconds, RDKit's is none) and
`StopRule.batch_size` picks the largest batch that still ends before the deadline, or one short enough
(about `RESPONSIVE_S`) that Ctrl-C is answered within seconds. When no batch fits, the oracle raises
`DesignStopped` and the run keeps what it has scored.

Ctrl-C: `catch_interrupts()` turns SIGINT into a flag. RDKit 2026.03's substructure matching installs
its own SIGINT handler (`RDKit::ControlCHandler`) and leaves it installed after the first match, so a
plain Python handler never runs again and Ctrl-C is lost; the signal is therefore blocked in the
running thread (and the threads it starts) and taken by a watcher thread with `sigtimedwait`, which no
handler can intercept.
"""

from __future__ import annotations

import itertools
import logging
import math
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

logger = logging.getLogger(__name__)

FIRST_BATCH = 8  # the first batch of a process for a set of properties: it may load models (not timed)
PROBE_BATCH = 32  # the next batches until the timer has a measurement
RESPONSIVE_S = 2.0  # with a stop flag (Ctrl-C), batches of about this long, unless the fixed cost needs more
SAFETY = 1.25  # predicted batch seconds are inflated by this much before they are compared with the deadline


class DesignStopped(Exception):  # noqa: N818 (a signal to stop, not an error)
    """Raised by the oracle between batches when the run must stop (time limit, Ctrl-C); the run keeps
    every molecule scored before it."""


class BatchTimer:
    """Seconds of an oracle batch as `fixed + per_molecule * n`, fitted to the last batches timed."""

    def __init__(self, keep: int = 8) -> None:
        self.samples: deque[tuple[int, float]] = deque(maxlen=keep)
        self.warm = False  # a first batch was scored (and not timed: it may have loaded models)

    def record(self, n: int, seconds: float) -> None:
        if not self.warm:
            self.warm = True
            return
        if n > 0:
            self.samples.append((n, max(0.0, seconds)))

    def fit(self) -> tuple[float, float] | None:
        """(fixed, per molecule) seconds; None before any batch was timed. With one batch size seen, half
        of its time is taken as fixed cost (conservative for smaller batches, proportional for larger)."""
        if not self.samples:
            return None
        sizes = {n for n, _ in self.samples}
        if len(sizes) == 1:
            n = next(iter(sizes))
            t = sum(s for _, s in self.samples) / len(self.samples)
            return t / 2, t / (2 * n)
        ns = [n for n, _ in self.samples]
        ts = [t for _, t in self.samples]
        mean_n, mean_t = sum(ns) / len(ns), sum(ts) / len(ts)
        var = sum((n - mean_n) ** 2 for n in ns)
        per = sum((n - mean_n) * (t - mean_t) for n, t in zip(ns, ts, strict=True)) / var
        per = max(per, min(t / n for n, t in self.samples) / 4, 1e-6)  # noise can make the slope <= 0
        fixed = max(0.0, mean_t - per * mean_n)
        return fixed, per

    def predict(self, n: int) -> float | None:
        """Seconds for a batch of n; None before any batch was timed."""
        fitted = self.fit()
        if fitted is None:
            return None
        fixed, per = fitted
        if len({m for m, _ in self.samples}) == 1:  # see fit(): larger batches at least proportional
            m = self.samples[-1][0]
            return max(fixed + per * n, (fixed + per * m) * n / m)
        return fixed + per * n

    def largest_within(self, seconds: float, most: int) -> int:
        """The largest batch (at most `most`) predicted to take at most `seconds`; 0 if none does."""
        lo, hi = 0, most
        while lo < hi:  # predict is increasing in n
            mid = (lo + hi + 1) // 2
            if (self.predict(mid) or 0.0) <= seconds:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def efficient_size(self) -> int:
        """The batch at which the fixed cost is half the time (smaller batches waste most of it)."""
        fitted = self.fit()
        if fitted is None:
            return 1
        fixed, per = fitted
        return max(1, math.ceil(fixed / per))


_TIMERS: dict[tuple, BatchTimer] = {}


def shared_timer(key: tuple) -> BatchTimer:
    """The timer of one kind of batch (the properties predicted, where) in this process: later runs start
    from what earlier runs measured."""
    return _TIMERS.setdefault(key, BatchTimer())


@dataclass(slots=True)
class StopRule:
    """When a run stops: when `should_stop()` turns true, or when what is left before `deadline` (a
    time.monotonic() value) is no more than `reserve()`, the seconds kept for what follows the search."""

    deadline: float | None = None
    should_stop: Callable[[], bool] | None = None
    reserve: Callable[[], float] | None = None

    def asked(self) -> bool:
        """Asked to stop now: the flag is set or the deadline has passed."""
        return bool(self.should_stop and self.should_stop()) or self.remaining() <= 0

    def remaining(self) -> float:
        """Seconds the search may still run."""
        if self.deadline is None:
            return math.inf
        return self.deadline - time.monotonic() - (self.reserve() if self.reserve else 0.0)

    def check(self, step: str = "") -> None:
        """DesignStopped when asked to stop (between steps of a run)."""
        if self.asked():
            raise DesignStopped(f"stopped before {step}" if step else "stopped")

    def batch_size(self, left: int, most: int, timer: BatchTimer) -> int:
        """How many of `left` molecules the next oracle batch scores (at most `most`), by `timer`'s
        measurements; DesignStopped when the run must stop or no batch is predicted to end in time."""
        self.check("the next batch")
        want = min(left, most)
        if not timer.warm:
            return min(want, FIRST_BATCH)
        if timer.fit() is None:
            return min(want, PROBE_BATCH)
        if self.should_stop is not None:  # answer Ctrl-C within seconds, but not at any cost in throughput
            want = min(want, max(timer.largest_within(RESPONSIVE_S, want), timer.efficient_size()))
        if self.deadline is not None:
            fits = timer.largest_within(self.remaining() / SAFETY, want)
            if fits == 0:
                raise DesignStopped("the time limit leaves no time for another batch")
            want = min(want, fits)
        return max(1, want)


@contextmanager
def catch_interrupts(on_repeat: Callable[[], None] | None = None) -> Iterator[threading.Event]:
    """Inside the block, Ctrl-C (SIGINT) sets the yielded event instead of raising KeyboardInterrupt;
    a second Ctrl-C calls `on_repeat` (the CLI aborts there). Outside the main thread, or where SIGINT is
    ignored (a background job), this does nothing but yield an event. Python's SIGINT handler and signal mask are restored on exit (which also removes
    a handler a native library left behind).

    Enter it before numpy, torch or RDKit is imported: the threads they start then inherit the blocked
    signal. A thread started before (numpy's BLAS pool) can still take it, and there a native library's
    handler may swallow it (`threads_taking_sigint()` says whether any such thread exists)."""
    event = threading.Event()
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # e.g. `nohup ... &`: SIGINT stays ignored
        yield event
        return
    counter = itertools.count(1)  # next() is atomic: the handler and the watcher may both count

    def interrupted() -> None:
        if next(counter) == 1:
            event.set()
            logger.warning("interrupted: stopping after the current batch and ranking the best so far "
                           "(Ctrl-C again to abort)")
        elif on_repeat is not None:
            on_repeat()

    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda signum, frame: interrupted())  # where the mask cannot reach
    masked = hasattr(signal, "pthread_sigmask") and hasattr(signal, "sigtimedwait")
    done = threading.Event()
    watcher = None
    if masked:
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})

        def watch() -> None:
            while not done.is_set():
                if signal.sigtimedwait({signal.SIGINT}, 0.2) is not None:
                    interrupted()

        watcher = threading.Thread(target=watch, name="litmol-sigint", daemon=True)
        watcher.start()
        if sys.platform == "linux" and (exposed := threads_taking_sigint()):
            logger.debug("%d threads started before Ctrl-C was caught can take it", exposed)
    try:
        yield event
    finally:
        done.set()
        if watcher is not None:
            watcher.join(1.0)
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
        if masked:
            while signal.sigtimedwait({signal.SIGINT}, 0) is not None:  # one that came while finishing
                interrupted()
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def threads_taking_sigint() -> int:
    """How many threads of this process (Linux) do not block SIGINT: where a Ctrl-C can land."""
    from pathlib import Path

    bit = 1 << (signal.SIGINT - 1)
    count = 0
    for status in Path("/proc/self/task").glob("*/status"):
        try:
            blocked = next(line for line in status.read_text().splitlines() if line.startswith("SigBlk:"))
        except (OSError, StopIteration):
            continue
        count += not int(blocked.split()[1], 16) & bit
    return count
