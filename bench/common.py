"""Shared helpers for bench scripts: the argument parser, JSON output, tables, the machine
description, and a predictor service on a free loopback port.

A bench script starts with the same preamble (so it runs as `python bench/NAME.py` from a clone):

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.common import arg_parser, save, table  # noqa: E402
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M")}


def save(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data | {"machine": machine()}, indent=2))
    return path


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    def fmt(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    widths = [max(len(c), *(len(fmt(r.get(c, ""))) for r in rows)) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(fmt(r.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)))
    return "\n".join(lines)


def arg_parser(doc: str | None) -> argparse.ArgumentParser:
    """The script's parser: its module docstring (usage, what it measures) is the --help text."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(*options: str, code: Path | None = None, ready_s: float | None = None) -> tuple[subprocess.Popen, str]:
    """`litmol serve predictors OPTIONS -q` on a free loopback port, from the code in `code` (default:
    this tree), never through a LITMOL_PREDICTOR_URL of the caller; with `ready_s`, waits for /health."""
    port = free_port()
    cmd = [sys.executable, "-m", "litmol.cli", "serve", "predictors", "--port", str(port), *options, "-q"]
    env = {k: v for k, v in os.environ.items() if k != "LITMOL_PREDICTOR_URL"}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    proc = subprocess.Popen(cmd, cwd=code, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    if ready_s is not None:
        import httpx

        deadline = time.monotonic() + ready_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"service exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    return proc, url
            time.sleep(0.3)
        stop_service(proc)
        raise RuntimeError(f"service not ready after {ready_s:.0f} s")
    return proc, url


def stop_service(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM, then the whole process group is killed if a worker is still busy after `timeout`."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
