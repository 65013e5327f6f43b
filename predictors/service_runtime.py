"""Runtime parts of the predictor service: shared counters, the batch collector, admission control.

- ServiceStats: counters in shared memory, written by the inference workers (batches) and the
  API server processes (admission), read by GET /stats.
- CollectingBatchLoop: LitServe's batched loop, but it blocks for a batch's first request instead of
  polling every millisecond, then takes what else arrives within `batch_timeout` and everything
  already queued, up to `max_batch_size` requests. An idle worker costs no CPU, and requests that
  queue up while the worker is busy are batched without waiting.
- AdmissionMiddleware: a bounded queue for POST /predict (503 + Retry-After when `max_queue`
  requests are in flight) and a deadline per request (504).
"""

from __future__ import annotations

import asyncio
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
              "in_flight", "rejected_busy", "timed_out")

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
    """ASGI middleware for one POST path: at most `max_queue` requests in flight, each within `timeout_s`."""

    def __init__(self, app: Any, *, path: str, stats: ServiceStats, max_queue: int, timeout_s: float) -> None:
        self.app = app
        self.path = path
        self.stats = stats
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
        started = False

        async def tracked_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, tracked_send), self.timeout_s)
        except TimeoutError:
            self.stats.add("timed_out")
            logger.warning("request to %s timed out after %.1f s", self.path, self.timeout_s)
            if not started:
                await _send_json(send, 504, error_body(
                    f"no answer within {self.timeout_s:g} s (request timeout)", "timeout"))
        finally:
            self.stats.add("in_flight", -1)
