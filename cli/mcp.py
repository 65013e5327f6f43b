"""`litmol mcp`: litmol's tools over the Model Context Protocol (stdio or streamable HTTP)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from litmol.agent.mcp_server import CALL_TIMEOUT_S

from .common import EXIT_OK, bounded, positive, settings

seconds = bounded(float, "a number of seconds", 1, 86_400, "must be between 1 and 86400 seconds")

CLIENT_CONFIG = """{
  "mcpServers": {
    "litmol": {"command": "litmol", "args": ["mcp"]}
  }
}"""


def cmd_mcp(args: argparse.Namespace) -> int:
    from litmol.agent.mcp_server import serve_http, serve_stdio

    chosen = settings(args)  # the index named by --index, the predictors of the settings
    if args.transport == "stdio":
        serve_stdio(chosen, args.call_timeout)  # stdout carries the protocol: everything else goes to stderr
    else:
        print(f"litmol MCP server on http://{args.host}:{args.port}/mcp (streamable HTTP); Ctrl-C stops it",
              file=sys.stderr)
        serve_http(args.host, args.port, chosen, timeout_s=args.call_timeout)
    return EXIT_OK


def register(sub: Any, shared: argparse.ArgumentParser) -> None:
    p = sub.add_parser("mcp", parents=[shared], help="serve litmol's tools to MCP clients (Claude Desktop, IDE agents)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Serve the agent's tools over the Model Context Protocol: search_literature, "
                       "get_article, find_links, resolve_molecule, drug_facts, predict_properties and "
                       "propose_candidates, with the schemas the agent uses, on the offline index (--index) and "
                       "predictors (LITMOL_PREDICTOR_URL for the service).\n\n"
                       "stdio (default) is what a desktop client launches; its configuration:\n"
                       f"{CLIENT_CONFIG}\n"
                       "--transport http serves streamable HTTP at http://HOST:PORT/mcp for several clients.")
    p.add_argument("--transport", choices=["stdio", "http"], default="stdio",
                   help="stdio (default: the client starts litmol) or http (streamable HTTP, one server for many)")
    p.add_argument("--host", choices=["127.0.0.1", "0.0.0.0", "::"], default="127.0.0.1",
                   help="interface for --transport http (default 127.0.0.1; 0.0.0.0 exposes the tools to the network)")
    p.add_argument("--port", type=positive, default=8200, help="TCP port for --transport http (default 8200)")
    p.add_argument("--call-timeout", type=seconds, default=CALL_TIMEOUT_S, metavar="SECONDS",
                   help=f"stop a tool call after this long (default {CALL_TIMEOUT_S:.0f}; the call's worker process is "
                   "killed and a fresh one takes the next call)")
    p.set_defaults(func=cmd_mcp)
