"""The predictor service's LitAPI: `predict_inputs` behind LitServe, batched and cancellable.

Requests that reach the worker together are batched: each group with the same options becomes
`predict_inputs` calls whose rows are split back per request. A group is predicted in chunks (sized
to take about CHUNK_TARGET_S); between chunks the worker drops requests whose client has gone or
whose deadline passed (the CancelBoard), so abandoned work does not hold the worker.

No `from __future__ import annotations` here: LitServe reads the request and response models from
the real annotations of `decode_request` / `encode_response`.
"""

import json
import logging
import time
from typing import Any

import litserve as ls
from fastapi.responses import Response

from litmol.settings import ServiceSettings, export

from ..api import MAX_BATCH, predict_inputs
from ..errors import UnknownPredictorError
from ..registry import get_predictor, list_predictors
from ..rows import PredictionRow
from .runtime import CancelBoard, CollectingBatchLoop, ServiceStats, error_body
from .schemas import PredictRequest, PredictResponse

logger = logging.getLogger(__name__)

FIRST_CHUNK_INPUTS = 32  # molecules predicted before the worker first checks for abandoned requests
CHUNK_TARGET_S = 0.5  # chunks grow (fast predictors, big GPU batches) or shrink to take about this long
DEVICE_ENV = "LITMOL_PREDICTOR_DEVICE"  # PredictorSettings.device, exported to the worker and its children
WARMUP_SMILES = "CC(=O)Oc1ccccc1C(=O)O"


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


class PredictorAPI(ls.LitAPI):
    """predict_inputs behind LitServe: batches of requests flattened into one call per option set."""

    def __init__(self, config: ServiceSettings, device: str, stats: ServiceStats, board: CancelBoard) -> None:
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
        export(DEVICE_ENV, self.device_kind)  # models this process (or its children) create later read it
        for name in list_predictors():
            predictor = get_predictor(name)
            if hasattr(predictor, "device"):  # admet, trained models (any predictor that takes a device)
                predictor.device = self.device_kind
        for name in self.config.preload:
            t = time.perf_counter()
            predict_inputs([WARMUP_SMILES], predictors=[name], alerts=True)
            logger.info("worker on %s: %s ready in %.1f s", device, name, time.perf_counter() - t)

    def decode_request(self, request: PredictRequest) -> PredictRequest:
        return request

    def _predict_group(self, requests: list[PredictRequest], members: list[int],
                       options: tuple) -> tuple[dict[int, list[PredictionRow]], set[int]]:
        """Rows per member request, predicted in chunks; members cancelled on the way are dropped."""
        properties, predictors, alerts = options
        pending = [(i, text) for i in members for text in requests[i].inputs]
        rows: dict[int, list[PredictionRow]] = {i: [] for i in members}
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
                    outputs[i] = {"status": 200, "body": {"results": [row.to_dict() for row in rows[i]]}}
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
