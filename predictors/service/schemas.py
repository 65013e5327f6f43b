"""The predictor service's HTTP bodies: what POST /predict takes and answers, and every error answer.

FastAPI builds /openapi.json from these models. `PredictionRow` here is the JSON schema of
litmol.predictors.rows.PredictionRow (whose `to_dict()` is what the service sends); it keeps that name
so the documented schema does too.

No `from __future__ import annotations`: FastAPI reads these models from real annotations.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

MAX_REQUEST_INPUTS = 1_000


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
    """One input's result, exactly as `PredictionRow.to_dict()` / `litmol predict --json` give it."""

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
