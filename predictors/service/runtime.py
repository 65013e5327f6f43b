"""Runtime parts of the predictor service: shared counters, the batch collector, admission control.

- ServiceStats: counters in shared memory, written by the inference workers (batches) and the
  API server processes (admission), read by GET /stats.
- CollectingBatchLoop: LitServe's batched loop, but it blocks for a batch's first request instead of
  polling every millisecond, then takes what else arrives within `batch_timeout` and everything
  already queued, up to `max_batch_size` requests. An idle worker costs no CPU, and requests that
  queue up while the worker is busy are batched without waiting.
- CancelBoard: a ticket per admitted request and the tickets whose client hung up or whose deadline
  passed, in shared memory; the worker checks it between chunks and drops abandoned requests' work.
- AdmissionMiddleware: a bounded queue for POST /predict (503 + Retry-After when `max_queue`
  requests are in flight), a deadline per request (504), and cancellation when the client disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing as mp
import time
from queue import Empty
from typing import Any

from litserve.loops.base import _SENTINEL_VALUE, _StopLoopError
from litserve.loops.simple_loops import BatchedLoop
from litserve.utils import LitAPIStatus, LoopResponseType

logger = logging.getLogger(__name__)


def error_body(message: str, kind: str) -> dict[str, str]:
    """The one-line JSON error every non-200 answer of the service carries."""
    return {"error": " ".join(message.split()), "type": kind}


class ServiceStats:
    """Service counters in shared memory (inherited by forked API servers, pickled to spawned workers)."""

    FIELDS = ("requests", "batches", "molecules", "max_batch_requests", "last_batch_requests",
              "in_flight", "rejected_busy", "timed_out", "cancelled", "dropped_molecules")

    def __init__(self) -> None:
        self._values = mp.get_context("spawn").Array("d", len(self.FIELDS))
        self._index = {name: i for i, name in enumerate(self.FIELDS)}

    def record_batch(self, requests: int, molecules: int) -> None:
        with self._values.get_lock():
            v, ix = self._values, self._index
            v[ix["requests"]] += requests
            v[ix["batches"]] += 1
            v[ix["molecules"]] += molecules
            v[ix["last_batch_requests"]] = requests
            v[ix["max_batch_requests"]] = max(v[ix["max_batch_requests"]], requests)

    def add(self, name: str, amount: float = 1) -> None:
        with self._values.get_lock():
            self._values[self._index[name]] += amount

    def try_admit(self, limit: int) -> bool:
        """Count one more request in flight unless `limit` are already; False means reject."""
        with self._values.get_lock():
            i = self._index["in_flight"]
            if self._values[i] >= limit:
                self._values[self._index["rejected_busy"]] += 1
                return False
            self._values[i] += 1
            return True

    def snapshot(self) -> dict[str, int]:
        with self._values.get_lock():
            return {name: int(self._values[i]) for name, i in self._index.items()}


class CancelBoard:
    """Tickets for admitted requests and which were abandoned, in shared memory (like ServiceStats).

    The API server issues a ticket per request and cancels it when the client disconnects or the
    deadline passes; the inference worker asks `is_cancelled` between chunks. A ring of SLOTS entries:
    slot `t % SLOTS` holds the last cancelled ticket that maps there, so old tickets need no clean-up.
    """

    SLOTS = 4096
    SCOPE_KEY = "litmol.ticket"  # where the middleware puts the ticket in the ASGI scope

    def __init__(self) -> None:
        self._values = mp.get_context("spawn").Array("q", self.SLOTS + 1)  # [0]: the last ticket issued

    def issue(self) -> int:
        with self._values.get_lock():
            self._values[0] += 1
            return int(self._values[0])

    def cancel(self, ticket: int) -> None:
        if ticket > 0:
            self._values[1 + ticket % self.SLOTS] = ticket

    def is_cancelled(self, ticket: int) -> bool:
        return ticket > 0 and self._values[1 + ticket % self.SLOTS] == ticket


class CollectingBatchLoop(BatchedLoop):
    """Batches without busy polling: block for the first request, then collect (see module doc)."""

    def get_batch_requests(self, lit_api: Any, request_queue: Any, transport: Any) -> tuple[list, list]:
        payloads: list[tuple] = []
        timed_out: list[tuple] = []
        try:
            item = request_queue.get(timeout=1.0)
        except Empty:
            return payloads, timed_out
        deadline = time.monotonic() + lit_api.batch_timeout
        timeout = lit_api.request_timeout
        apply_timeout = timeout not in (None, False, -1)
        while True:
            if item == _SENTINEL_VALUE:
                raise _StopLoopError()
            response_queue_id, uid, timestamp, x_enc = item
            self.put_response(transport, response_queue_id, uid, (), LitAPIStatus.START, LoopResponseType.REGULAR)
            if apply_timeout and time.monotonic() - timestamp > timeout:
                timed_out.append((response_queue_id, uid))
            else:
                payloads.append((response_queue_id, uid, x_enc))
            if len(payloads) >= lit_api.max_batch_size:
                break
            remaining = deadline - time.monotonic()
            try:
                item = request_queue.get(timeout=remaining) if remaining > 0 else request_queue.get_nowait()
            except Empty:
                break
        return payloads, timed_out


async def _send_json(send: Any, status: int, body: dict[str, Any], headers: list | None = None) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": data})


class AdmissionMiddleware:
    """ASGI middleware for one POST path: at most `max_queue` requests in flight, each within `timeout_s`,
    and none kept running for a client that has gone.

    Once the app has read the whole body, the middleware listens on the connection: a disconnect before
    the response is complete cancels the request (its ticket on the CancelBoard, which the worker checks)
    and stops waiting for it. A request past its deadline is cancelled the same way and answered 504.
    """

    def __init__(self, app: Any, *, path: str, stats: ServiceStats, board: CancelBoard, max_queue: int,
                 timeout_s: float) -> None:
        self.app = app
        self.path = path
        self.stats = stats
        self.board = board
        self.max_queue = max_queue
        self.timeout_s = timeout_s

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if not self.stats.try_admit(self.max_queue):
            await _send_json(send, 503, error_body(
                f"service busy: {self.max_queue} requests in flight (max queue); retry later", "busy"),
                headers=[(b"retry-after", b"1")])
            return
        ticket = self.board.issue()
        scope[CancelBoard.SCOPE_KEY] = ticket
        body_read = asyncio.Event()
        started = complete = False

        async def tracked_receive() -> dict[str, Any]:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_read.set()
            return message

        async def tracked_send(message: dict[str, Any]) -> None:
            nonlocal started, complete
            started = started or message["type"] == "http.response.start"
            complete = complete or (message["type"] == "http.response.body" and not message.get("more_body", False))
            await send(message)

        async def client_gone() -> None:
            """Returns when the client disconnects before its answer is complete (never otherwise)."""
            await body_read.wait()
            while (await receive())["type"] != "http.disconnect":
                pass
            if complete:  # uvicorn reports a finished exchange as a disconnect too
                await asyncio.Event().wait()

        app_task = asyncio.ensure_future(self.app(scope, tracked_receive, tracked_send))
        watch_task = asyncio.ensure_future(client_gone())
        try:
            await asyncio.wait({app_task, watch_task}, timeout=self.timeout_s, return_when=asyncio.FIRST_COMPLETED)
            if app_task.done():
                app_task.result()  # the app's own exceptions propagate as before
                return
            self.board.cancel(ticket)
            app_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await app_task
            if watch_task.done():
                self.stats.add("cancelled")
                logger.info("client left %s before its answer; request %d cancelled", self.path, ticket)
                return
            self.stats.add("timed_out")
            logger.warning("request to %s timed out after %.1f s", self.path, self.timeout_s)
            if not started:
                await _send_json(send, 504, error_body(
                    f"no answer within {self.timeout_s:g} s (request timeout)", "timeout"))
        finally:
            watch_task.cancel()
            if not app_task.done():
                app_task.cancel()
            self.stats.add("in_flight", -1)
