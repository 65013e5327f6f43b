"""Tool calls in worker processes, so that a call's time limit is real: past it, the worker is killed
(the work stops, not only the wait) and a fresh one takes the next call.

A thread cannot be stopped, and a tool stuck in native code or a long pure-Python loop holds the GIL:
the MCP server's event loop then stopped answering everyone (measured on main: a 1 MB `find_links`
name got no reply in 400 s, and a 140 KB one blocked `tools/list` for 23 s). Here the server only
waits on a pipe; each worker opens its own `ToolContext` (index, link table, predictors) from the
settings on first use and keeps it between calls.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from dataclasses import dataclass
from typing import Any

from litmol.settings import Settings

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0  # a fresh worker imports the tools (a few seconds; more on a busy machine)


class ToolCallTimeout(TimeoutError):
    """A tool call ran past its limit; its worker was killed."""


class ToolCallError(RuntimeError):
    """A tool call failed in its worker; the message is what the caller may show."""


@dataclass(slots=True)
class _Worker:
    process: Any
    conn: Any


def run_tool(tool: Any, arguments: dict[str, Any], context: Any) -> str:
    """One call as the agent makes it (agent/session.py `call_tool`): the tool's own argument validation,
    the context injected, never taken from the caller."""
    import warnings

    from langchain.tools import ToolRuntime

    runtime = ToolRuntime(state={}, context=context, config={}, stream_writer=lambda _: None, tool_call_id=None,
                          store=None)
    with warnings.catch_warnings():  # pydantic cannot serialize the context object; it is not meant to
        warnings.simplefilter("ignore", UserWarning)
        return str(tool.invoke({**arguments, "runtime": runtime}))


def bad_arguments(name: str, exc: Exception) -> str:
    """One line for a failed call: the schema problems of a pydantic error, else the exception."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors())
        return f"{name}: bad arguments ({problems}). Call it again with arguments that match its schema."
    return f"{name} failed: {exc}."


def _serve(conn: Any, settings: Settings) -> None:
    """A worker's loop: receive (tool name, arguments), answer ("ok", text) or ("error", message)."""
    import os

    from .tools import TOOLS, ToolContext

    os.dup2(2, 1)  # stdout may be the MCP stdio channel: nothing a library prints may land there
    logging.basicConfig(level=logging.WARNING)
    tools = {t.name: t for t in TOOLS}
    context = ToolContext(settings)
    conn.send(("ready", ""))
    while True:
        try:
            name, arguments = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = ("ok", run_tool(tools[name], arguments, context))
        except Exception as exc:  # bad arguments (pydantic) or a failure: one line for the caller
            if type(exc).__name__ != "ValidationError":
                logger.exception("tool %s", name)
            reply = ("error", bad_arguments(name, exc))
        conn.send(reply)


class ToolWorkers:
    """Up to `size` worker processes running tool calls, each bounded by its time limit."""

    def __init__(self, settings: Settings, size: int = 2) -> None:
        self.settings = settings
        self.size = size
        self._idle: list[_Worker] = []
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._ctx = multiprocessing.get_context("spawn")  # no inherited threads, locks or open files

    def _start(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_serve, args=(child, self.settings), daemon=True, name="litmol-tool")
        process.start()
        child.close()
        if not parent.poll(START_TIMEOUT_S):
            process.kill()
            raise ToolCallError("a tool worker did not start")
        parent.recv()
        return _Worker(process, parent)

    def warm(self) -> None:
        """Start one worker now, so the first call does not wait for the imports."""
        with self._slots:
            worker = self._start()
            with self._lock:
                self._idle.append(worker)

    def call(self, name: str, arguments: dict[str, Any], timeout_s: float) -> str:
        """The tool's text; raises ToolCallTimeout past `timeout_s` (the worker is killed) and
        ToolCallError when the tool failed (its message is safe to show)."""
        with self._slots:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            if worker is None or not worker.process.is_alive():
                worker = self._start()
            started = time.monotonic()
            try:
                worker.conn.send((name, arguments))
                ready = worker.conn.poll(timeout_s)
                kind, text = worker.conn.recv() if ready else ("timeout", "")
            except (EOFError, OSError, BrokenPipeError):
                kind, text = "died", ""
            if kind in ("timeout", "died"):
                worker.process.kill()
                worker.process.join(5)
                if kind == "timeout":
                    logger.warning("tool %s stopped after %.1f s", name, time.monotonic() - started)
                    raise ToolCallTimeout(f"{name} timed out after {timeout_s:.0f} s and was stopped; "
                                          "try a smaller request")
                raise ToolCallError(f"{name} failed: its worker stopped unexpectedly; try again")
            with self._lock:
                self._idle.append(worker)
            if kind == "error":
                raise ToolCallError(text)
            return text

    def close(self) -> None:
        with self._lock:
            workers, self._idle = self._idle, []
        for worker in workers:
            worker.conn.close()
            worker.process.kill()
