"""What every command module shares: exit statuses, the usage error, argument validators, the
model options of ask/chat/eval, JSON output, and the settings the commands receive.

A command module has `register(subparsers, shared)` (its parsers, `shared` being the -v/-q/--index
options every subcommand accepts) and its `cmd_*` handlers: `handler(args) -> exit status`, with
the settings as `settings(args)`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, get_args

from litmol.settings import QuantizationName

if TYPE_CHECKING:
    from litmol.settings import Settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
EXIT_SIGPIPE = 128 + 13  # the reader of stdout went away, as for a tool killed by SIGPIPE


class UsageError(Exception):
    """Bad command-line input that argparse cannot catch (exit status 2)."""


def bounded(kind: type[int] | type[float], noun: str, low: float, high: float,
            problem: str) -> Callable[[str], Any]:
    """An argparse `type` reading `kind` within [low, high]; `problem` (formatted with the value)
    is the error for a number out of range, "not {noun}" the error for text that is no number."""

    def parse(value: str) -> Any:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {noun}: {value!r}") from None
        if not low <= number <= high:  # NaN fails this too
            raise argparse.ArgumentTypeError(problem.format(number))
        return number

    parse.__name__ = noun
    return parse


year = bounded(int, "a year", 1800, 2100, "year out of range: {}")
positive = bounded(int, "an integer", 1, float("inf"), "must be at least 1")
non_negative = bounded(float, "a number", 0, sys.float_info.max, "must be a non-negative number")


def result_count(value: str) -> int:
    """A number of search results: 1 to litmol.retrieval.MAX_RESULTS."""
    from litmol.retrieval import MAX_RESULTS

    n = positive(value)
    if n > MAX_RESULTS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_RESULTS}")
    return n


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """--backend/--model/--base-url/--max-steps, shared by ask, chat and eval run; unset, they come
    from the [agent] settings (litmol.toml, LITMOL_AGENT_*)."""
    p.add_argument("--backend", choices=["local", "openai"],
                   help="local (default): a model on this machine; openai: an OpenAI-compatible server")
    p.add_argument("--model", help="local: 0.5b (default), 1.5b, a folder, a .gguf file or HF id; openai: the "
                   "served model name")
    add_engine_argument(p)
    p.add_argument("--base-url", help="OpenAI-compatible endpoint (default $LITMOL_OPENAI_BASE_URL)")
    p.add_argument("--max-steps", type=positive, help="model calls per question at most (default 6)")


def add_engine_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=["auto", "llama-cpp", "transformers"],
                   help="local inference engine: llama-cpp (the shipped quantized GGUF, fast on CPU), transformers "
                   "(fp32 PyTorch, the reference); default auto: llama-cpp when installed")
    p.add_argument("--adapter", metavar="PATH", help="a LoRA adapter for the local model (PEFT folder or .gguf)")
    p.add_argument("--quantization", choices=get_args(QuantizationName),
                   help="llama-cpp weights of a shipped model: shipped (Q4_K_M as packaged), or re-quantized once (cached): "
                   "q4_0, q8_0, iq4_nl (IQ4_NL layers, Q4_0 LM head)")


def add_allow_damaged(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-damaged", action="store_true",
                   help="publish even if a file is damaged (truncated, not gzip, binary), keeping the records "
                   "read before the damage; by default nothing is published and the exit status is 2")


def agent_settings(args: argparse.Namespace) -> Settings:
    """The settings with --backend/--model/--base-url/--max-steps/--engine/... applied to the agent section."""
    current = settings(args)
    given = {"backend": args.backend, "model": args.model, "max_model_calls": args.max_steps,
             "engine": args.engine, "adapter": args.adapter, "quantization": args.quantization,
             "openai_base_url": args.base_url}
    if args.backend == "openai" and not args.model:  # the server's model name, not the local default
        given["model"] = current.agent.openai_model
    update = {k: v for k, v in given.items() if v is not None}
    return replace(current, agent=current.agent.model_copy(update=update)) if update else current


def split_list(value: str | None) -> list[str] | None:
    """'a, b,,c' -> ['a', 'b', 'c']; None or '' -> None."""
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def settings(args: argparse.Namespace) -> Settings:
    """The settings of this command (loaded once, with --index applied)."""
    loaded = getattr(args, "settings", None)
    if loaded is None:
        loaded = args.settings = load_settings(getattr(args, "index", None))
    return loaded


def load_settings(index: str | None) -> Settings:
    """The settings every command receives (litmol.toml < LITMOL_* < --index); an invalid value is
    a UsageError naming the setting and the variables that set it."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from litmol.settings import Settings

    try:
        return Settings.load().with_index(index)
    except ValidationError as exc:
        raise UsageError("invalid setting " + "; ".join(_describe_error(exc.title, e) for e in exc.errors())) from None
    except SettingsError as exc:  # a LITMOL_* value that is not JSON where a list is expected
        raise UsageError(f"invalid setting: {exc}") from None


def _describe_error(title: str, error: dict[str, Any]) -> str:
    """One failed check of a settings section as 'section.key = value: problem (set by ...)'."""
    from litmol.settings import SECTIONS

    section, kind = next(((n, k) for n, k in SECTIONS.items() if k.__name__ == title), (title, None))
    first, *rest = [str(part) for part in error["loc"]] or [""]
    problem = error["msg"].removeprefix("Value error, ")
    if kind is None or not first:
        return f"{section}: {problem}"
    field = next((f for f in kind.model_fields if first == f or first in kind.env_names(f)), first)
    variables = [v for v in kind.env_names(field) if v.isupper()] if field in kind.model_fields else []
    where = " or ".join([*variables, f"[{section}] {field} in litmol.toml"])
    return f"{'.'.join([section, field, *rest])} = {str(error['input'])[:40]!r}: {problem} (set by {where})"
