"""Request size limits for the app: a body over the limit is refused with 413 before Gradio reads it.

Gradio caps file uploads (`max_file_size`) but not the JSON of an API call, so one caller could send
megabytes of "name" or "question" and hold a worker thread while the app matched it. Uploads (a CSV or
SDF for the Molecules tab) get their own, larger limit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000  # an API call's JSON: a question, a name, a pasted list of SMILES
UPLOAD_PATH = "/gradio_api/upload"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyTooLarge(Exception):
    """The request body grew past its limit while it was read."""


class BodyLimit:
    """ASGI middleware: requests whose body (declared or streamed) exceeds the limit get 413."""

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES, upload_bytes: int = 20 * 2**20) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes

    def limit(self, scope: Scope) -> int:
        return self.upload_bytes if scope.get("path", "").endswith(UPLOAD_PATH) else self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        seen = 0
        started = False

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracked(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started:
                await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"error": f"request body over {limit:,} bytes; send less (a name, a question, "
                                "or upload a file)"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
