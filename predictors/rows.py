"""Typed prediction results: one `PredictionRow` per input, in input order, bad inputs kept.

The same rows come from `predict_inputs` (in this process) and from the predictor service's client;
`to_dict()` is the JSON both `litmol predict --json` and POST /predict give, key for key:

    {"input", "smiles", "valid", "error", "properties", "alerts": [{"catalog", "name"}], "name",
     "resolved_by"}, plus "suggestions" (close drug names) when an unknown name has some.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PropertyValue = float | int | bool | str | None


@dataclass(slots=True, frozen=True)
class Alert:
    """A structural alert a molecule matches: its catalog (PAINS, BRENK, NIH, medchem:<rule set>) and name."""

    catalog: str
    name: str

    @property
    def label(self) -> str:
        """`catalog:name`, as tables and tool outputs show it."""
        return f"{self.catalog}:{self.name}"

    def to_dict(self) -> dict[str, str]:
        return {"catalog": self.catalog, "name": self.name}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        return cls(str(data["catalog"]), str(data["name"]))


@dataclass(slots=True)
class PredictionRow:
    """One input's result: the molecule it resolved to, or why it did not, and what was predicted."""

    input: str  # the input as given
    smiles: str | None  # standardized canonical SMILES; None when invalid
    valid: bool  # whether the input resolved to a molecule
    error: str | None = None  # why the input is invalid
    name: str | None = None  # the approved-drug name when the input was resolved by name
    resolved_by: str | None = None  # smiles, molblock, "name (exact)" or "name (fuzzy 0.94)"
    properties: dict[str, PropertyValue] = field(default_factory=dict)  # property name -> value
    alerts: list[Alert] = field(default_factory=list)  # PAINS/Brenk/NIH first
    suggestions: list[str] = field(default_factory=list)  # close drug names for an unknown name

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON: the service's and `litmol predict --json`'s shape, in their key order."""
        out: dict[str, Any] = {"input": self.input, "smiles": self.smiles, "valid": self.valid, "error": self.error,
                               "properties": dict(self.properties), "alerts": [a.to_dict() for a in self.alerts],
                               "name": self.name, "resolved_by": self.resolved_by}
        if self.suggestions:
            out["suggestions"] = list(self.suggestions)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PredictionRow:
        """A row from its JSON (`to_dict`'s shape), e.g. as the predictor service sends it."""
        return cls(input=data["input"], smiles=data.get("smiles"), valid=bool(data["valid"]), error=data.get("error"),
                   name=data.get("name"), resolved_by=data.get("resolved_by"),
                   properties=dict(data.get("properties") or {}),
                   alerts=[Alert.from_dict(a) for a in data.get("alerts") or ()],
                   suggestions=list(data.get("suggestions") or ()))
