"""The predictor HTTP service (`litmol serve predictors`): LitServe with dynamic batching.

POST /predict takes `{inputs, properties, predictors, alerts}` and answers `{results, batch}` where
`results` is exactly what `predict_inputs` returns for those inputs. Requests that reach the worker
together are batched: each group with the same options becomes one `predict_inputs` call whose rows
are split back per request. GET /health (200 once every worker is ready), /info (limits, device,
predictors), /stats (batch and admission counters), /openapi.json and /docs come with it.

Limits: a body over `max_payload_mb` -> 413; more than MAX_REQUEST_INPUTS molecules -> 413; more than
`max_queue` requests in flight -> 503 with Retry-After; a request not answered within
`request_timeout` -> 504. Every error body is one line: `{"error": ..., "type": ...}`. A bad SMILES
is not an HTTP error: its row has `valid: false` and an `error`, as in-process. A request whose client
disconnects (or that gets 504) is cancelled: the worker drops its remaining molecules at the next chunk
(chunks are sized to take about CHUNK_TARGET_S), so abandoned work does not hold the worker.

No `from __future__ import annotations` here: LitServe and FastAPI read the request and response
models from the real annotations of `decode_request` / `encode_response`.
"""

import json
import logging
import os
import socket
import time
from typing import Any, Literal

import litserve as ls
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from .api import MAX_BATCH, predict_inputs
from .errors import UnknownPredictorError
from .registry import get_predictor, list_predictors
from .service_runtime import (
    AdmissionMiddleware,
    CancelBoard,
    CollectingBatchLoop,
    ServiceStats,
    error_body,
)

logger = logging.getLogger(__name__)

MAX_REQUEST_INPUTS = 1_000
FIRST_CHUNK_INPUTS = 32  # molecules predicted before the worker first checks for abandoned requests
CHUNK_TARGET_S = 0.5  # chunks grow (fast predictors, big GPU batches) or shrink to take about this long
DEVICE_ENV = "LITMOL_PREDICTOR_DEVICE"
WARMUP_SMILES = "CC(=O)Oc1ccccc1C(=O)O"
ERROR_TYPES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
               500: "internal", 503: "busy", 504: "timeout"}


class ServiceConfigError(ValueError):
    """The service cannot start with these settings (e.g. --device cuda without a GPU)."""


class ServiceStartError(RuntimeError):
    """The service could not start (port in use, a worker failed to load)."""


class ServiceConfig(BaseModel):
    """How `litmol serve predictors` listens, batches and protects itself."""

    model_config = ConfigDict(extra="forbid")

    host: Literal["127.0.0.1", "0.0.0.0", "::"] = Field(
        default="127.0.0.1", description="Interface to listen on (LitServe accepts these three).")
    port: int = Field(default=8100, ge=1024, le=65535, description="TCP port.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="auto: cuda when torch sees a GPU, else cpu. Passed to the predictors.")
    max_batch_size: int = Field(default=8, ge=1, le=256, description="Requests merged into one batch at most.")
    batch_timeout: float = Field(
        default=0.01, ge=0, le=5,
        description="Seconds the worker waits for more requests after the first of a batch; requests "
        "already queued are always taken.")
    max_queue: int = Field(default=64, ge=1, description="Requests in flight (queued or running) before 503.")
    workers: int = Field(default=1, ge=1, le=64, description="Inference worker processes per device.")
    request_timeout: float = Field(default=300, gt=0, description="Seconds before a request gets 504.")
    max_payload_mb: float = Field(default=16, gt=0, description="Largest request body in MB (413 above).")
    preload: list[str] = Field(
        default_factory=lambda: ["rdkit", "admet"],
        description="Predictors loaded and warmed before /health reports ready.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="warning", description="Log level of LitServe and uvicorn (access logs at info); at error the "
        "service's own start-up lines are silenced too.")

    @model_validator(mode="after")
    def _timeouts_fit(self) -> "ServiceConfig":
        if self.batch_timeout >= self.request_timeout:
            raise ValueError("batch_timeout must be shorter than request_timeout")
        return self


class PredictRequest(BaseModel):
    """Molecules to predict, and what to predict for them."""

    model_config = ConfigDict(extra="forbid")

    inputs: list[str] = Field(
        min_length=1, max_length=MAX_REQUEST_INPUTS,
        description=f"SMILES, MOL blocks or approved-drug names (1-{MAX_REQUEST_INPUTS} per request).")
    properties: list[str] | None = Field(
        default=None, description="Property names to return (see GET /info); default: all of the predictors.")
    predictors: list[str] | None = Field(
        default=None, description="Predictor names, e.g. rdkit, admet; default: rdkit, or those providing `properties`.")
    alerts: bool | Literal["core", "all", "none"] = Field(
        default="core", description="Structural alerts: core (PAINS, Brenk, NIH; true), all (plus medchem's "
        "~2,500 rules), none (false).")
    _ticket: int = PrivateAttr(default=0)  # the CancelBoard ticket, set by the endpoint; travels to the worker

    def options(self) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None, bool | str]:
        """What must match for two requests to share one predict_inputs call."""
        return (tuple(self.properties) if self.properties else None,
                tuple(self.predictors) if self.predictors else None, self.alerts)


class PredictionRow(BaseModel):
    """One input's result, exactly as `predict_inputs` / `litmol predict --json` give it."""

    model_config = ConfigDict(extra="forbid")

    input: str = Field(description="The input as given.")
    smiles: str | None = Field(description="Standardized canonical SMILES, null when invalid.")
    valid: bool = Field(description="Whether the input resolved to a molecule.")
    error: str | None = Field(description="Why the input is invalid, else null.")
    properties: dict[str, float | int | bool | str | None] = Field(description="Property name -> value.")
    alerts: list[dict[str, str]] = Field(description="Structural alerts: [{catalog, name}].")
    name: str | None = Field(description="Approved-drug name when resolved by name.")
    resolved_by: str | None = Field(description="smiles, molblock, or name (exact / fuzzy).")
    suggestions: list[str] | None = Field(default=None, description="Close drug names for an unknown name.")


class BatchInfo(BaseModel):
    """The worker batch this request was served in."""

    model_config = ConfigDict(extra="forbid")

    requests: int = Field(description="Requests merged into the batch.")
    molecules: int = Field(description="Molecules in the batch, all requests together.")
    predict_s: float = Field(description="Seconds the worker spent predicting the batch.")
    device: str = Field(description="Device the worker runs on.")


class PredictResponse(BaseModel):
    """Rows for the request's inputs, in order, and how they were batched."""

    model_config = ConfigDict(extra="forbid")

    results: list[PredictionRow] = Field(description="One row per input, in input order.")
    batch: BatchInfo = Field(description="The batch that served this request.")


class ErrorResponse(BaseModel):
    """Every non-200 answer: one line saying what went wrong, and its kind."""

    model_config = ConfigDict(extra="forbid")

    error: str = Field(description="What went wrong, in one line.")
    type: str = Field(description="unknown_name, too_many_inputs, payload_too_large, invalid_request, busy, "
                      "timeout or internal.")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Unknown predictor or property name."},
    413: {"model": ErrorResponse, "description": f"Body over max_payload_mb, or over {MAX_REQUEST_INPUTS} inputs."},
    422: {"model": ErrorResponse, "description": "Malformed request (not JSON, missing or extra fields)."},
    503: {"model": ErrorResponse, "description": "max_queue requests in flight; retry after Retry-After seconds."},
    504: {"model": ErrorResponse, "description": "No answer within request_timeout."},
}


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


class PredictorAPI(ls.LitAPI):
    """predict_inputs behind LitServe: batches of requests flattened into one call per option set."""

    def __init__(self, config: ServiceConfig, device: str, stats: ServiceStats, board: CancelBoard) -> None:
        super().__init__(max_batch_size=config.max_batch_size, batch_timeout=config.batch_timeout,
                         api_path="/predict", loop=CollectingBatchLoop())
        self.config = config
        self.device_kind = device
        self.stats = stats
        self.board = board

    def setup(self, device: str) -> None:
        if not logging.getLogger().handlers:  # a spawned worker: configure its own logging
            logging.basicConfig(level=self.config.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
            if self.config.log_level != "error":
                logger.setLevel(logging.INFO)
        os.environ[DEVICE_ENV] = self.device_kind
        for name in list_predictors():
            predictor = get_predictor(name)
            if hasattr(predictor, "device"):  # admet (and any predictor that takes a device)
                predictor.device = self.device_kind
        for name in self.config.preload:
            t = time.perf_counter()
            predict_inputs([WARMUP_SMILES], predictors=[name], alerts=True)
            logger.info("worker on %s: %s ready in %.1f s", device, name, time.perf_counter() - t)

    def decode_request(self, request: PredictRequest) -> PredictRequest:
        return request

    def _predict_group(self, requests: list[PredictRequest], members: list[int],
                       options: tuple) -> tuple[dict[int, list[dict[str, Any]]], set[int]]:
        """Rows per member request, predicted in chunks; members cancelled on the way are dropped."""
        properties, predictors, alerts = options
        pending = [(i, text) for i in members for text in requests[i].inputs]
        rows: dict[int, list[dict[str, Any]]] = {i: [] for i in members}
        abandoned: set[int] = set()
        size, at = FIRST_CHUNK_INPUTS, 0
        while at < len(pending):
            abandoned.update(i for i in members if self.board.is_cancelled(requests[i]._ticket))
            part = [(i, text) for i, text in pending[at:at + size] if i not in abandoned]
            at += size
            if not part:
                continue
            start = time.perf_counter()
            predicted = predict_inputs([text for _, text in part], properties, predictors, alerts)
            for (i, _), row in zip(part, predicted, strict=True):
                rows[i].append(row)
            took = time.perf_counter() - start
            if took < CHUNK_TARGET_S / 2:
                size = min(size * 2, MAX_BATCH)
            elif took > CHUNK_TARGET_S * 2:
                size = max(size // 2, 8)
        return rows, abandoned

    def predict(self, requests: list[PredictRequest]) -> list[dict[str, Any]]:
        start = time.perf_counter()
        groups: dict[tuple, list[int]] = {}
        for i, request in enumerate(requests):
            groups.setdefault(request.options(), []).append(i)
        outputs: list[dict[str, Any]] = [{} for _ in requests]
        dropped = 0
        for options, members in groups.items():
            try:
                rows, abandoned = self._predict_group(requests, members, options)
            except UnknownPredictorError as exc:  # these requests get 400; the rest of the batch goes on
                for i in members:
                    outputs[i] = {"status": 400, "body": error_body(str(exc), "unknown_name")}
                continue
            except Exception as exc:  # a predictor failed: 500 for its requests only
                logger.exception("prediction failed for %d requests", len(members))
                for i in members:
                    outputs[i] = {"status": 500, "body": error_body(f"prediction failed: {exc}", "internal")}
                continue
            for i in members:
                if i in abandoned:  # nobody is waiting: a short answer LitServe can drop
                    dropped += len(requests[i].inputs) - len(rows[i])
                    outputs[i] = {"status": 499, "body": error_body("client gone; request cancelled", "cancelled")}
                else:
                    outputs[i] = {"status": 200, "body": {"results": rows[i]}}
        molecules = sum(len(r.inputs) for r in requests)
        batch = {"requests": len(requests), "molecules": molecules,
                 "predict_s": round(time.perf_counter() - start, 4), "device": self.device_kind}
        for out in outputs:
            if out["status"] == 200:
                out["body"]["batch"] = batch
        self.stats.record_batch(len(requests), molecules)
        if dropped:
            self.stats.add("dropped_molecules", dropped)
            logger.info("dropped %d molecules of abandoned requests", dropped)
        logger.debug("batch of %d requests, %d molecules in %.3f s", len(requests), molecules, batch["predict_s"])
        return outputs

    def encode_response(self, output: dict[str, Any]) -> PredictResponse:
        # Serialized here, in the worker, once; the API server passes the bytes through.
        body = json.dumps(output["body"], default=_json_default, ensure_ascii=False).encode()
        return Response(content=body, status_code=output["status"], media_type="application/json")


def resolve_device(requested: str) -> str:
    """cpu or cuda for `--device auto|cpu|cuda`; cuda without a visible GPU is a ServiceConfigError."""
    if requested == "cpu":
        return "cpu"
    import torch

    has_cuda = torch.cuda.is_available()
    if requested == "cuda" and not has_cuda:
        raise ServiceConfigError("--device cuda, but torch sees no CUDA device")
    return "cuda" if has_cuda else "cpu"


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    for e in errors:
        if e.get("type") == "too_long" and tuple(e.get("loc", ())) == ("body", "inputs"):
            n = len(e.get("input") or ())
            return JSONResponse(error_body(f"{n:,} inputs; at most {MAX_REQUEST_INPUTS:,} per request "
                                           "(PredictorClient splits larger lists)", "too_many_inputs"), 413)
        if e.get("type") == "json_invalid":
            where = f"character {e['loc'][-1]}" if len(e.get("loc", ())) > 1 else "body"
            return JSONResponse(error_body(f"invalid JSON at {where}: {(e.get('ctx') or {}).get('error', '')}",
                                           "invalid_request"), status_code=422)
        if e.get("type") == "model_attributes_type" and tuple(e.get("loc", ())) == ("body",):
            return JSONResponse(error_body('the body must be a JSON object like {"inputs": ["CCO"]} '
                                           "(Content-Type: application/json)", "invalid_request"), 422)
    where = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg')}" for e in errors)
    return JSONResponse(error_body(f"invalid request: {where}", "invalid_request"), status_code=422)


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    kind = ERROR_TYPES.get(exc.status_code, "http_error")
    return JSONResponse(error_body(str(exc.detail), kind), status_code=exc.status_code, headers=exc.headers)


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ServiceStartError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _document_predict_route(server: ls.LitServer) -> None:
    """Re-register LitServe's POST /predict with a summary and the error answers in the OpenAPI schema."""
    router = server.app.router
    route = next(r for r in router.routes if getattr(r, "path", None) == "/predict")
    router.routes.remove(route)
    litserve_endpoint = route.endpoint

    async def predict_endpoint(request: PredictRequest, http_request: Request) -> PredictResponse:
        request._ticket = http_request.scope.get(CancelBoard.SCOPE_KEY, 0)  # the worker checks it between chunks
        return await litserve_endpoint(request)

    server.app.add_api_route(
        "/predict", predict_endpoint, methods=["POST"], dependencies=route.dependencies, responses=ERROR_RESPONSES,
        summary="Predict properties and alerts for molecules",
        description="One row per input, in order; an input that is not a molecule gets `valid: false` and an "
        "`error`, not an HTTP error. Concurrent requests are batched on the worker.")


class PredictorServer(ls.LitServer):
    """LitServer that says where it listens once its workers are ready (uvicorn starts right after)."""

    listen_url = ""

    def verify_worker_status(self) -> None:
        super().verify_worker_status()
        logger.info("listening on %s (POST /predict; GET /health /info /stats /docs)", self.listen_url)


def build_server(config: ServiceConfig) -> ls.LitServer:
    """The LitServer for `config` (workers start in `run`)."""
    device = resolve_device(config.device)
    for name in config.preload:
        get_predictor(name)  # unknown names fail here, not in a worker
    stats = ServiceStats()
    board = CancelBoard()
    api = PredictorAPI(config, device, stats, board)
    metadata = {"service": "litmol predictors", "device": device, "predictors": list_predictors(),
                "preloaded": config.preload, "max_request_inputs": MAX_REQUEST_INPUTS,
                "max_batch_size": config.max_batch_size, "batch_timeout": config.batch_timeout,
                "max_queue": config.max_queue, "request_timeout": config.request_timeout,
                "max_payload_mb": config.max_payload_mb}
    server = PredictorServer(
        api, accelerator=device, devices=1, workers_per_device=config.workers, timeout=config.request_timeout,
        max_payload_size=int(config.max_payload_mb * 1024 * 1024), model_metadata=metadata,
        middlewares=[(AdmissionMiddleware, {"path": "/predict", "stats": stats, "board": board,
                                            "max_queue": config.max_queue, "timeout_s": config.request_timeout})])
    _document_predict_route(server)
    server.app.add_exception_handler(RequestValidationError, _validation_error)
    server.app.add_exception_handler(StarletteHTTPException, _http_error)

    async def service_stats() -> dict[str, int]:
        """Counters since start: requests, batches, molecules, largest batch, in flight, 503s, 504s."""
        return stats.snapshot()

    server.app.add_api_route("/stats", service_stats, methods=["GET"])
    host = f"[{config.host}]" if ":" in config.host else config.host
    server.listen_url = f"http://{host}:{config.port}"
    return server


def serve(config: ServiceConfig) -> None:
    """Run the service until interrupted (Ctrl-C or SIGTERM)."""
    import signal

    _check_port_free(config.host, config.port)
    server = build_server(config)
    logger.info("litmol predictor service: starting %d worker(s) on %s, preloading %s",
                config.workers, server.model_metadata["device"], ", ".join(config.preload) or "nothing")

    main_pid = os.getpid()

    def _stop(signum: int, frame: Any) -> None:
        if os.getpid() != main_pid:  # a forked API server that uvicorn already shut down
            raise SystemExit(0)
        raise KeyboardInterrupt  # LitServe shuts its workers down gracefully on KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.run(host=config.host, port=config.port, log_level=config.log_level, generate_client_file=False)
    except RuntimeError as exc:  # LitServe: "One or more workers failed to start"
        raise ServiceStartError(f"predictor service did not start: {exc} (see the worker log above)") from exc
