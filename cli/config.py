"""`litmol config show`: every setting in effect, its value and where it came from (default,
litmol.toml, a LITMOL_* variable, or the command line)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .common import EXIT_OK, print_json, settings

EPILOG = """settings come from, lowest to highest: defaults < litmol.toml < LITMOL_* variables < options.
litmol.toml is read from $LITMOL_CONFIG, ./litmol.toml, or $LITMOL_HOME/litmol.toml, e.g.

  [retrieval]
  index_name = "cardio"
  [predictors]
  url = "http://gpu-box:8100"
  [agent]
  model = "1.5b"

examples:
  litmol config show
  litmol config show --section agent --json
  LITMOL_AGENT_MODEL=1.5b litmol config show --section agent
"""


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def cmd_config_show(args: argparse.Namespace) -> int:
    from litmol.settings import find_config_file

    rows = [r for r in settings(args).describe() if args.section in (None, r["section"])]
    if args.json:
        print_json(rows)
        return EXIT_OK
    config = find_config_file()
    print(f"# config file: {config or 'none (defaults and LITMOL_* variables only)'}", file=sys.stderr)
    width = max(len(f"{r['section']}.{r['key']}") for r in rows)
    for r in rows:
        print(f"{r['section'] + '.' + r['key']:<{width}}  {_shown(r['value']):<40}  {r['source']}")
    return EXIT_OK


SECTION_NAMES = ("retrieval", "predictors", "service", "agent", "ui")  # litmol.settings.SECTIONS, without importing it


def register(sub: Any, shared: argparse.ArgumentParser) -> None:
    config = sub.add_parser("config", help="show the settings in effect and where each comes from")
    csub = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = csub.add_parser("show", parents=[shared], help="every setting: value and source",
                        description="Print each setting as section.key, its value and its source "
                        "(default, the litmol.toml file, a LITMOL_* variable, or explicit). Secrets are masked.",
                        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--section", choices=SECTION_NAMES, help="only this section")
    p.add_argument("--json", action="store_true", help="JSON list of {section, key, value, source}")
    p.set_defaults(func=cmd_config_show)
