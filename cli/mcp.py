"""`litmol mcp`: litmol's tools over the Model Context Protocol (stdio or streamable HTTP)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import EXIT_OK, positive, settings

CLIENT_CONFIG = """{
  "mcpServers": {
    "litmol": {"command": "litmol", "args": ["mcp"]}
  }
}"""


def cmd_mcp(args: argparse.Namespace) -> int:
    from litmol.agent.mcp_server import serve_http, serve_stdio
    from litmol.agent.tools import ToolContext

    context = ToolContext(settings(args))  # the index named by --index, the predictors of the settings
    if args.transport == "stdio":
        serve_stdio(context)  # stdout carries the protocol: everything else goes to stderr
    else:
        print(f"litmol MCP server on http://{args.host}:{args.port}/mcp (streamable HTTP); Ctrl-C stops it",
              file=sys.stderr)
        serve_http(args.host, args.port, context)
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
    p.set_defaults(func=cmd_mcp)
