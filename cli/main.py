"""The `litmol` command line: the root parser, the options every command shares, and the error
boundary. Each command group lives in its own module (index, search, predict, agent, evaluation,
links, ui, serve, config) with `register(subparsers, shared)` and its handlers; heavy packages are
imported inside the handlers, so --help is instant.

Exit status: 0 success, 2 bad usage or input, 1 internal failure; errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from . import (
    agent,
    config,
    evaluation,
    finetune,
    index,
    links,
    mcp,
    predict,
    propose,
    search,
    serve,
    ui,
)
from .common import EXIT_FAILURE, EXIT_SIGPIPE, EXIT_USAGE, UsageError, settings

logger = logging.getLogger("litmol")

EPILOG = """examples:
  litmol index build                      # default corpus: ~33,000 PubMed abstracts, offline
  litmol index build --stage lexical      # BM25 part only (about a minute); dense later
  litmol search "metformin breast cancer risk" -k 5
  litmol search "beta blocker heart failure" --since 2000 --json
  litmol article 399592
  litmol corpus add my_pubmed_update.xml.gz my_abstracts.jsonl
  litmol predict aspirin "CN(C)C(=N)N=C(N)N" --json
  litmol predict --input compounds.csv --output props.csv
  litmol ask "Does caffeine cross the blood-brain barrier?"
  litmol links --disease "breast cancer"  # drugs reported to treat / cause it, with PMIDs
  litmol config show                      # every setting and where it comes from
"""

GROUPS = (index, search, predict, propose, agent, finetune, evaluation, ui, serve, mcp, links, config)


def _common_options(suppress: bool) -> argparse.ArgumentParser:
    """-v/-q/--index, accepted before or after the subcommand. Subcommands add them with
    SUPPRESS defaults so that `litmol -q links build` keeps the -q given before the subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    kw = {"default": argparse.SUPPRESS} if suppress else {}
    common.add_argument("-v", "--verbose", action="store_true", help="log progress details", **kw)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars, warnings only", **kw)
    common.add_argument("--index", metavar="NAME", help="index name under LITMOL_HOME (default: the [retrieval] "
                        "index_name setting, 'default')", **kw)
    return common


def build_parser() -> argparse.ArgumentParser:
    common, shared = _common_options(False), _common_options(True)
    parser = argparse.ArgumentParser(
        prog="litmol", description="Offline assistant for drug discovery: search PubMed literature, "
        "predict molecular properties, ask a local agent. State lives in LITMOL_HOME (~/.litmol); "
        "settings come from litmol.toml and LITMOL_* variables (`litmol config show`).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, parents=[common])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in GROUPS:
        group.register(sub, shared)
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    from litmol.settings import quiet_libraries

    level = logging.INFO if getattr(args, "verbose", False) else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    quiet_libraries(progress=not getattr(args, "quiet", False))


def _exit_status(exc: BaseException) -> int:
    from litmol.retrieval import CorruptIndexError

    if isinstance(exc, CorruptIndexError):
        return EXIT_FAILURE
    if isinstance(exc, UsageError | ValueError | LookupError | FileNotFoundError):
        return EXIT_USAGE
    return EXIT_FAILURE


def _reader_gone() -> int:
    """stdout's reader went away (`litmol search x --json | head -1`): stop quietly, as a tool killed
    by SIGPIPE does (status 141), with stdout pointed at /dev/null so the flush at exit cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        settings(args)  # read once, before any work: a bad setting is one line and exit status 2
        status = func(args)
        sys.stdout.flush()  # a reader that went away shows here, not in Python's flush at exit
        return status
    except BrokenPipeError:
        return _reader_gone()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the CLI boundary: one line, an exit status
        status = _exit_status(exc)
        if args.verbose:
            logger.exception("failed")
        print(f"litmol: error: {exc}" if status == EXIT_USAGE else f"litmol: failed: {exc}", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
