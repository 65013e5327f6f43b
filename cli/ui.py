"""`litmol ui`: the web app (chat, molecules, literature, links) on the index --index names."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any

from .common import EXIT_OK, UsageError, add_engine_argument, positive, settings


def _auth(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise argparse.ArgumentTypeError("expected USER:PASS")
    return user, password


def _flag(value: str) -> bool:
    if value.lower() in {"true", "yes", "1", "on"}:
        return True
    if value.lower() in {"false", "no", "0", "off"}:
        return False
    raise argparse.ArgumentTypeError("expected true or false")


def _endpoints(args: argparse.Namespace) -> list[Any]:
    """The chat models the app offers: an OpenAI-compatible server given here comes first."""
    from litmol.ui.settings import ChatEndpoint, default_endpoints

    extra = []
    if args.backend == "openai":
        if not args.base_url:
            raise UsageError("--backend openai needs --base-url URL (the server the app may send the API key to)")
        extra.append(ChatEndpoint(name=args.model or "server", backend="openai", model=args.model,
                                  base_url=args.base_url))
    default = args.model if args.backend == "local" and args.model else settings(args).agent.model
    return default_endpoints(default, extra, settings(args).ui)


def cmd_ui(args: argparse.Namespace) -> int:
    from litmol.agent.backends import check_backend, make_chat_model
    from litmol.agent.session import AgentSession

    config = settings(args)
    engine = {k: v for k in ("engine", "adapter", "quantization") if (v := getattr(args, k))}
    if engine:  # the local models the app offers run on this engine
        config = args.settings = replace(config, agent=config.agent.model_copy(update=engine))
    host, port = args.host or config.ui.host, args.port or config.ui.port
    try:
        endpoints = _endpoints(args)
    except ValueError as exc:  # a bad --base-url or LITMOL_UI_ENDPOINTS
        raise UsageError(" ".join(str(exc).split())) from None
    if args.share and not args.auth:
        print("warning: --share true puts the app on a public gradio.live link that anyone with the URL can "
              "use; add --auth USER:PASS", file=sys.stderr)
    session = AgentSession(config)
    if session.index.notice:  # the index opens here: a missing one fails now, in one line
        print(f"note: {session.index.notice}", file=sys.stderr)
    first = endpoints[0]
    if args.preload:  # the model loads (or is dequantized once) now, not on the first question
        print(f"loading the {first.backend} model {first.model or ''} ...", file=sys.stderr)
        extra = {"base_url": first.base_url} if first.base_url else {}
        check_backend(make_chat_model(first.backend, first.model, settings=config.agent, **extra))
    if host not in {"127.0.0.1", "localhost", "::1"} and not args.auth:
        print("warning: serving beyond this machine without --auth USER:PASS", file=sys.stderr)
    from litmol.ui.app import launch

    print(f"litmol UI on http://{host}:{port} (Ctrl-C stops it); index {config.retrieval.index_name}; chat models "
          f"offered: {', '.join(e.name for e in endpoints)}", file=sys.stderr)
    launch(session=session, host=host, port=port, share=args.share, auth=args.auth, endpoints=endpoints)
    return EXIT_OK


UI_EPILOG = """examples:
  litmol ui                      # http://127.0.0.1:7860
  litmol ui --model 1.5b --index cardio
  litmol ui --host 0.0.0.0 --auth alice:s3cret
  litmol ui --backend openai --base-url http://127.0.0.1:8000/v1 --model qwen
"""


def register(sub: Any, shared: argparse.ArgumentParser) -> None:
    p = sub.add_parser("ui", parents=[shared], help="the web app: chat, molecules, literature, links (Gradio)",
                       description="Open the litmol app in a browser: chat with the agent (tool steps, cited "
                       "passages, structures, predictions), predict properties for molecule lists (paste or "
                       "CSV/SDF upload, plot, CSV download), search the literature index and browse mined links.",
                       epilog=UI_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", help="interface (default 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=positive, help="TCP port (default 7860)")
    p.add_argument("--share", type=_flag, default=False, metavar="true|false",
                   help="a public Gradio share link (default false; needs internet)")
    p.add_argument("--auth", type=_auth, metavar="USER:PASS", help="require this login")
    p.add_argument("--model", help="default chat model: 0.5b (default), 1.5b, a folder or HF id; with --backend "
                   "openai, the served model's name")
    p.add_argument("--backend", choices=["local", "openai"], default="local",
                   help="openai: offer the OpenAI-compatible server at --base-url first (it gets OPENAI_API_KEY); "
                   "browsers choose only among the models offered here and in LITMOL_UI_ENDPOINTS")
    p.add_argument("--base-url", help="the OpenAI-compatible server for --backend openai")
    add_engine_argument(p)
    p.add_argument("--no-preload", dest="preload", action="store_false",
                   help="load the model on the first question instead of at start")
    p.set_defaults(func=cmd_ui)
