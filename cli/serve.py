"""`litmol serve predictors`: the predictor service over HTTP (LitServe, batched, GPU if present);
`litmol serve llm`: the agent's model behind an OpenAI-compatible server (llama.cpp on CPU, vLLM on a GPU).

Options given on the command line win over the [service] settings (litmol.toml, LITMOL_SERVICE_*)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from .common import EXIT_OK, UsageError, non_negative, positive, settings, split_list

OPTIONS = ("host", "port", "device", "max_batch_size", "batch_timeout", "max_queue", "workers", "request_timeout",
           "max_payload_mb")


def cmd_serve_predictors(args: argparse.Namespace) -> int:
    from litmol.predictors.service.server import serve, service_settings

    given: dict[str, Any] = {k: getattr(args, k) for k in OPTIONS if getattr(args, k) is not None}
    if args.preload is not None:
        given["preload"] = split_list(args.preload) or []
    if args.verbose or args.quiet:
        given["log_level"] = "info" if args.verbose else "error"
    config = service_settings(**given)  # over the [service] settings; a bad value: one line, exit status 2
    if not args.quiet:
        logging.getLogger("litmol.predictors").setLevel(logging.INFO)  # where it listens, workers ready
    serve(config)
    return EXIT_OK


def register(sub: Any, shared: argparse.ArgumentParser) -> None:
    serve = sub.add_parser("serve", help="run a service over HTTP: predictors (LitServe, batched) or llm (the agent's model, OpenAI protocol)")
    ssub = serve.add_subparsers(dest="service", metavar="SERVICE", required=True)
    p = ssub.add_parser("predictors", parents=[shared], help="the predictor service (POST /predict, GET /health)",
                        description="Serve `litmol predict` over HTTP with dynamic batching. Point "
                        "LITMOL_PREDICTOR_URL=http://HOST:PORT at it to use it from every litmol command. "
                        "Endpoints: POST /predict, GET /health /info /stats /docs /openapi.json. Unset options "
                        "come from the [service] settings (`litmol config show`).")
    p.add_argument("--host", choices=["127.0.0.1", "0.0.0.0", "::"],
                   help="interface (default 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=positive, help="TCP port (default 8100)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"],
                   help="auto (default): cuda when torch sees a GPU, else cpu")
    p.add_argument("--max-batch-size", type=positive, metavar="N", help="requests merged into one batch at most (default 8)")
    p.add_argument("--batch-timeout", type=non_negative, metavar="S",
                   help="seconds to wait for more requests once one arrived (default 0.01)")
    p.add_argument("--max-queue", type=positive, metavar="N", help="requests in flight before answering 503 (default 64)")
    p.add_argument("--workers", type=positive, metavar="N", help="inference worker processes (default 1)")
    p.add_argument("--request-timeout", type=non_negative, metavar="S",
                   help="seconds before a request gets 504 (default 300)")
    p.add_argument("--max-payload-mb", type=non_negative, metavar="MB",
                   help="largest request body (default 16 MB; 413 above)")
    p.add_argument("--preload", metavar="LIST",
                   help="predictors loaded before /health is ready (default rdkit,admet; '' for none)")
    p.set_defaults(func=cmd_serve_predictors)
    register_llm(ssub, shared)


def cmd_serve_llm(args: argparse.Namespace) -> int:
    from litmol.agent.serve_llm import LlmServeError, serve_llm

    config = settings(args).agent
    try:
        return serve_llm(announce=lambda text: print(text, file=sys.stderr, flush=True), model=args.model or config.model, adapter=args.adapter if args.adapter is not None
                         else config.adapter, engine=args.engine, quantization=args.quantization or config.quantization,
                         host=args.host, port=args.port, n_ctx=args.ctx, threads=args.threads,
                         api_key=args.api_key)
    except LlmServeError as exc:
        raise UsageError(str(exc)) from None


def register_llm(ssub: Any, shared: argparse.ArgumentParser) -> None:
    p = ssub.add_parser("llm", parents=[shared], help="the agent's model behind an OpenAI-compatible server",
                        description="Serve the agent's model over the OpenAI chat-completions protocol, for several "
                        "users or `eval run --workers`: on CPU llama.cpp's server (llama-cpp-python) on the shipped "
                        "GGUF, on a GPU vLLM when it is installed. Point the agent at it with --backend openai "
                        "--base-url http://HOST:PORT/v1 (the command prints the settings); its tool calls are "
                        "generated under the server's JSON-schema structured outputs, valid by construction.")
    p.add_argument("--model", help="0.5b (default), 1.5b, a .gguf file (llama.cpp) or a model folder/HF id (vLLM)")
    p.add_argument("--adapter", help="a LoRA adapter: shipped, a PEFT folder or a .gguf (default: the agent setting)")
    p.add_argument("--engine", choices=["auto", "llama-cpp", "vllm"], default="auto",
                   help="auto (default): vllm when it is installed and a GPU is visible, else llama-cpp")
    p.add_argument("--quantization", choices=["shipped", "q4_0", "q8_0", "iq4_nl"], help="llama.cpp weights")
    p.add_argument("--host", choices=["127.0.0.1", "0.0.0.0", "::"], default="127.0.0.1",
                   help="interface (default 127.0.0.1; 0.0.0.0 for every interface: set --api-key)")
    p.add_argument("--port", type=positive, default=8300, help="TCP port (default 8300)")
    p.add_argument("--ctx", type=positive, default=8192, help="context length in tokens (default 8192)")
    p.add_argument("--threads", type=positive, help="CPU threads (llama.cpp; default: every core)")
    p.add_argument("--api-key", help="require this bearer token (clients: OPENAI_API_KEY)")
    p.set_defaults(func=cmd_serve_llm)
