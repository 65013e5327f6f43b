"""Question batches: the JSONL schema, validated whole before anything runs.

One question per line: `{id, question, type?, gold?, gold_pmids?, meta?}`. Types and their gold:

    yesno   gold "yes"/"no" or true/false
    short   gold a string or number, or a list of acceptable ones (numbers within meta.tolerance)
    list    gold a list of items; an item may itself be a list of synonyms
    pmids   gold_pmids (retrieval metrics on what the tools retrieved)
    open    no automatic gold; the answer is kept for review

Without `type`: `pmids` when gold_pmids is given and gold is not, `open` when neither, else `short`.
Any question may carry gold_pmids too. Every bad line is reported with its 1-based number.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

logger = logging.getLogger(__name__)

QuestionType = Literal["yesno", "short", "list", "pmids", "open"]
QUESTION_TYPES: tuple[str, ...] = ("yesno", "short", "list", "pmids", "open")
GoldItem = str | int | float | list[str | int | float]


class InvalidBatchError(ValueError):
    """A question file with malformed lines (exit status 2)."""


class Question(BaseModel):
    """One line of a question batch, with its type resolved and its gold normalized."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, description="Unique id of the question within the batch.")
    question: str = Field(min_length=1, description="The question as the agent receives it.")
    type: QuestionType | None = Field(default=None, description="How the answer is scored; inferred when absent.")
    gold: bool | GoldItem | list[GoldItem] | None = Field(
        default=None, description="The expected answer: yes/no, a string or number, or a list (see module doc).")
    gold_pmids: list[str] | None = Field(default=None, description="PMIDs a good retrieval returns (any type).")
    meta: dict[str, Any] | None = Field(default=None, description="Free-form; meta.tolerance bounds numeric gold.")

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("question")
    @classmethod
    def _question_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("question is blank")
        return value.strip()

    @field_validator("gold_pmids", mode="before")
    @classmethod
    def _pmids_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        return value

    @field_validator("gold_pmids")
    @classmethod
    def _pmids_digits(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        bad = [v for v in value if not v.strip().isdigit()]
        if bad:
            raise ValueError(f"PMIDs must be digits, got {bad[0]!r}")
        if not value:
            raise ValueError("gold_pmids is empty")
        return list(dict.fromkeys(v.strip() for v in value))

    @model_validator(mode="after")
    def _resolve_type_and_gold(self) -> Question:
        if self.type is None:
            if self.gold is None:
                self.type = "pmids" if self.gold_pmids else "open"
            else:
                self.type = "short"
        self.gold = _check_gold(self.type, self.gold, self.gold_pmids)
        tol = (self.meta or {}).get("tolerance")
        if tol is not None and (isinstance(tol, bool) or not isinstance(tol, int | float) or tol < 0):
            raise ValueError(f"meta.tolerance must be a non-negative number, got {tol!r}")
        return self


def _check_gold(kind: str, gold: Any, gold_pmids: list[str] | None) -> Any:
    """The gold for `kind`, normalized (yesno → bool); ValueError naming the wrong shape."""
    if kind == "yesno":
        if isinstance(gold, bool):
            return gold
        if isinstance(gold, str) and gold.strip().lower() in {"yes", "no"}:
            return gold.strip().lower() == "yes"
        raise ValueError(f"type yesno needs gold \"yes\"/\"no\" or true/false, got {gold!r}")
    if kind == "short":
        options = gold if isinstance(gold, list) else [gold]
        if gold is None or not options or any(not _scalar(o) for o in options):
            raise ValueError(f"type short needs gold as a string, a number or a list of them, got {gold!r}")
        if any(isinstance(o, str) and not o.strip() for o in options):
            raise ValueError("type short has a blank gold string")
        return gold
    if kind == "list":
        if not isinstance(gold, list) or not gold:
            raise ValueError(f"type list needs gold as a non-empty list, got {gold!r}")
        for item in gold:
            synonyms = item if isinstance(item, list) else [item]
            if not synonyms or any(not _scalar(s) or (isinstance(s, str) and not s.strip()) for s in synonyms):
                raise ValueError(f"type list: each gold item must be a string/number or a list of synonyms, "
                                 f"got {item!r}")
        return gold
    if kind == "pmids":
        if not gold_pmids:
            raise ValueError("type pmids needs gold_pmids")
        return gold
    return gold  # open: any gold is kept for the reviewer


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


@dataclass(slots=True)
class InvalidLine:
    """A line of the batch that cannot run, and why."""

    line: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason}

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(slots=True)
class QuestionBatch:
    """The valid questions of a file, in file order, the invalid lines, and the file's identity."""

    path: Path
    sha256: str
    questions: list[Question] = field(default_factory=list)
    invalid: list[InvalidLine] = field(default_factory=list)


def _reason(exc: ValidationError) -> str:
    parts = []
    gold_shape = False
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            parts.append(f"missing {loc}")
        elif err["type"] == "extra_forbidden":
            parts.append(f"unknown field {loc!r}")
        elif loc == "type" and err["type"] == "literal_error":
            parts.append(f"unknown type {err.get('input')!r} (use one of {', '.join(QUESTION_TYPES)})")
        elif loc.startswith("gold."):  # one error per branch of the union: say it once
            gold_shape = True
        else:
            parts.append(f"{loc + ': ' if loc else ''}{msg}")
    if gold_shape:
        parts.append("gold has the wrong shape (use a string, number, true/false or a list)")
    return "; ".join(dict.fromkeys(parts))


def parse_questions(lines: list[str]) -> tuple[list[Question], list[InvalidLine]]:
    """Validate every line (blank lines are skipped); duplicate ids after the first are invalid."""
    questions: list[Question] = []
    invalid: list[InvalidLine] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            invalid.append(InvalidLine(number, f"bad JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(data, dict):
            invalid.append(InvalidLine(number, f"expected a JSON object, got {type(data).__name__}"))
            continue
        try:
            question = Question.model_validate(data)
        except ValidationError as exc:
            invalid.append(InvalidLine(number, _reason(exc)))
            continue
        if question.id in first_line:
            invalid.append(InvalidLine(number, f"duplicate id {question.id!r} (first on line {first_line[question.id]})"))
            continue
        first_line[question.id] = number
        questions.append(question)
    return questions, invalid


def load_questions(path: str | Path) -> QuestionBatch:
    """Read and validate a JSONL batch (FileNotFoundError when missing, InvalidBatchError when empty)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no question file {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidBatchError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    questions, invalid = parse_questions(text.splitlines())
    if not questions and not invalid:
        raise InvalidBatchError(f"{path} holds no questions")
    return QuestionBatch(path=path, sha256=hashlib.sha256(data).hexdigest(), questions=questions, invalid=invalid)
