"""The predictor HTTP service (`litmol serve predictors`): LitServe with dynamic batching.

POST /predict takes `{inputs, properties, predictors, alerts}` and answers `{results, batch}` where
`results` is `[row.to_dict() for row in predict_inputs(...)]` for those inputs (batching and
cancellation: litapi.py; the bodies: schemas.py). GET /health (200 once every worker is ready), /info
(limits, device, predictors), /stats (batch and admission counters), /openapi.json and /docs come with it.

Limits: a body over `max_payload_mb` -> 413; more than MAX_REQUEST_INPUTS molecules -> 413; more than
`max_queue` requests in flight -> 503 with Retry-After; a request not answered within
`request_timeout` -> 504. Every error body is one line: `{"error": ..., "type": ...}`. A bad SMILES
is not an HTTP error: its row has `valid: false` and an `error`, as in-process. A request whose client
disconnects (or that gets 504) is cancelled: the worker drops its remaining molecules at the next chunk.

Settings: litmol.settings.ServiceSettings (`litmol serve predictors` options, [service] in litmol.toml).

No `from __future__ import annotations` here: FastAPI reads the request and response models from
the real annotations of the /predict endpoint.
"""

import logging
import os
import socket
from typing import Any

import litserve as ls
import litserve.server
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from litmol.settings import ServiceSettings

from ..registry import get_predictor, list_predictors
from .litapi import PredictorAPI
from .runtime import AdmissionMiddleware, CancelBoard, ServiceStats, error_body
from .schemas import ERROR_RESPONSES, MAX_REQUEST_INPUTS, PredictRequest, PredictResponse

# litserve 0.2.x mounts its own MCP endpoint whenever the `mcp` package is installed, through the MCP 1.x
# API (mcp.server.fastmcp), which mcp 2.x (`litmol mcp`) no longer has: the server then fails to start.
# The predictor service serves no MCP (litmol mcp does), so the probe is turned off.
litserve.server._MCP_AVAILABLE = False

logger = logging.getLogger(__name__)

ERROR_TYPES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
               500: "internal", 503: "busy", 504: "timeout"}


class ServiceConfigError(ValueError):
    """The service cannot start with these settings (e.g. --device cuda without a GPU)."""


class ServiceStartError(RuntimeError):
    """The service could not start (port in use, a worker failed to load)."""


def service_settings(**values: Any) -> ServiceSettings:
    """ServiceSettings from explicit values (they win over LITMOL_SERVICE_* and litmol.toml [service]);
    a bad value, wherever it came from, is a ServiceConfigError naming the setting, in one line."""
    try:
        return ServiceSettings(**values)
    except ValidationError as exc:
        raise ServiceConfigError("; ".join(f"{'.'.join(map(str, e['loc'])) or 'service settings'}: {e['msg']}"
                                           for e in exc.errors())) from None


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


def build_server(config: ServiceSettings) -> ls.LitServer:
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


def serve(config: ServiceSettings) -> None:
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
