"""Client of the predictor service (`litmol serve predictors`): the `predict_inputs` contract over HTTP.

    client = PredictorClient("http://127.0.0.1:8100")
    rows = client.predict(["aspirin", "CCO"], predictors=["rdkit", "admet"])

Rows come back as the PredictionRows `predict_inputs` returns, equal field for field, in input order,
bad inputs kept with their error. Lists longer than the server's per-request limit are split into chunks (sent `concurrency` at
a time, so the server can batch them). A refused connection or a 503 (busy) is retried with
exponential backoff; what still fails raises a PredictorServiceError subclass with a one-line message.
Settings: litmol.settings.PredictorSettings (url, timeout, retries; LITMOL_PREDICTOR_URL, _TIMEOUT, _RETRIES).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from litmol.settings import PredictorSettings

from ..errors import PredictorError, UnknownPredictorError
from ..rows import PredictionRow

logger = logging.getLogger(__name__)

MAX_BACKOFF_S = 8.0


class PredictorServiceError(PredictorError):
    """The predictor service could not answer: unreachable, busy, timed out or failed."""


class PredictorServiceUnavailable(PredictorServiceError):
    """No connection, or the service stayed busy (503), through every retry."""


class PredictorServiceTimeout(PredictorServiceError):
    """The service did not answer within the timeout (504, or the client's read timeout)."""


class PredictorRequestError(PredictorServiceError, ValueError):
    """The service rejected the request itself (too large, malformed): retrying will not help."""


class PredictorClient:
    """HTTP client for the predictor service; thread-safe, reuses connections."""

    def __init__(self, url: str, timeout: float = 300.0, retries: int = 4, backoff: float = 0.5,
                 chunk_size: int | None = None, concurrency: int = 1) -> None:
        """Args:
            url: Service root, e.g. http://127.0.0.1:8100.
            timeout: Seconds to wait for one answer (connecting: at most 5 s per attempt).
            retries: Re-sends after a refused connection or a 503; waits backoff * 2**n s (max 8 s).
            backoff: First wait, in seconds.
            chunk_size: Inputs per request (default and maximum: the server's limit, from /info).
            concurrency: Requests in flight at once when a list needs several chunks.
        """
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.chunk_size = chunk_size
        self.concurrency = max(1, concurrency)
        self.retried = 0  # re-sends so far (refused connections and 503s)
        self._info: dict[str, Any] | None = None
        self._http = httpx.Client(base_url=self.url, timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)))

    @classmethod
    def from_settings(cls, settings: PredictorSettings | None = None) -> PredictorClient:
        """A client for `settings.url` (default settings: PredictorSettings()); PredictorServiceError
        when no URL is configured."""
        settings = settings or PredictorSettings()
        if not settings.url:
            raise PredictorServiceError("no predictor service URL configured (LITMOL_PREDICTOR_URL or "
                                        "[predictors] url in litmol.toml)")
        return cls(settings.url, timeout=settings.timeout, retries=settings.retries)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PredictorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def health(self) -> bool:
        """True when the service answers and every worker is ready; False otherwise (never raises)."""
        try:
            response = self._http.get("/health", timeout=5.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        """Poll /health until it is ready; PredictorServiceUnavailable after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self.health():
            if time.monotonic() > deadline:
                raise PredictorServiceUnavailable(f"predictor service at {self.url} not ready after {timeout:g} s")
            time.sleep(0.2)

    def info(self) -> dict[str, Any]:
        """The service's description: device, predictors, limits (GET /info, cached)."""
        if self._info is None:
            self._info = self._send("GET", "/info").json()["model"]
        return self._info

    def stats(self) -> dict[str, int]:
        """The service's counters (GET /stats): requests, batches, largest batch, 503s, 504s."""
        return self._send("GET", "/stats").json()

    def predict(self, inputs: Sequence[str], properties: Sequence[str] | None = None,
                predictors: Sequence[str] | None = None, alerts: bool | str = "core") -> list[PredictionRow]:
        """Like `predict_inputs`: one row per input, in order; UnknownPredictorError for unknown names."""
        inputs = list(inputs)
        if not inputs:
            return []
        limit = int(self.info()["max_request_inputs"])
        size = min(self.chunk_size or limit, limit)
        options = {"properties": list(properties) if properties else None,
                   "predictors": list(predictors) if predictors else None, "alerts": alerts}
        chunks = [inputs[at:at + size] for at in range(0, len(inputs), size)]

        def post(chunk: list[str]) -> list[dict[str, Any]]:
            return self._send("POST", "/predict", json={"inputs": chunk, **options}).json()["results"]

        if self.concurrency > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(min(self.concurrency, len(chunks))) as pool:
                parts = list(pool.map(post, chunks))
        else:
            parts = [post(chunk) for chunk in chunks]
        return [PredictionRow.from_dict(row) for part in parts for row in part]

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        problem = ""
        for attempt in range(self.retries + 1):
            wait = min(self.backoff * 2 ** attempt, MAX_BACKOFF_S)
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.ConnectTimeout:
                problem = "connection timed out"
            except httpx.TimeoutException:
                raise PredictorServiceTimeout(
                    f"predictor service at {self.url} gave no answer within {self.timeout:g} s") from None
            except httpx.TransportError as exc:
                problem = f"cannot connect ({exc.__class__.__name__}: {exc})"
            else:
                if response.status_code != 503:
                    return self._checked(response)
                problem = f"busy ({_error_message(response)})"
                wait = max(wait, _retry_after(response))
            if attempt == self.retries:
                break
            self.retried += 1
            logger.info("predictor service %s: %s; retry %d/%d in %.1f s", self.url, problem, attempt + 1,
                        self.retries, wait)
            time.sleep(wait)
        raise PredictorServiceUnavailable(
            f"predictor service at {self.url} unavailable after {self.retries + 1} attempt{'s' if self.retries else ''}: {problem}")

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.status_code == 200:
            return response
        message = _error_message(response)
        kind = _error_type(response)
        if kind == "unknown_name":
            raise UnknownPredictorError(message)
        if response.status_code == 504:
            raise PredictorServiceTimeout(f"predictor service at {self.url} timed out: {message}")
        if 400 <= response.status_code < 500:
            raise PredictorRequestError(f"predictor service rejected the request ({response.status_code}): {message}")
        raise PredictorServiceError(f"predictor service at {self.url} failed ({response.status_code}): {message}")


def _error_json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_message(response: httpx.Response) -> str:
    data = _error_json(response)
    message = data.get("error") or data.get("detail") or response.text or response.reason_phrase
    return " ".join(str(message).split())[:500]


def _error_type(response: httpx.Response) -> str | None:
    return _error_json(response).get("type")


def _retry_after(response: httpx.Response) -> float:
    try:
        return float(response.headers.get("retry-after", 0))
    except ValueError:
        return 0.0


@functools.lru_cache(maxsize=4)
def shared_client(url: str, timeout: float = 300.0, retries: int = 4) -> PredictorClient:
    """One client per (URL, timeout, retries) for the process, so connections are reused."""
    return PredictorClient(url, timeout=timeout, retries=retries)
