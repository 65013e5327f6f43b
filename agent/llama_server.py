"""llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`, its arguments unchanged) with
two changes: the KV prefix a request reuses from the last one, and a guard in front of llama.cpp's native
code so that no request can crash the server. `litmol serve llm` runs this module.

Prefix reuse. llama-cpp-python reuses any matching prefix and computes the rest in `n_batch` steps from
wherever the match ended, so the same request got different logits after different requests (measured:
the first tool of 2 of 8 dev questions changed with the request before, and the Ray eval test failed in
CI on it). Here a prompt is always computed in `n_batch`-token chunks from position 0, and only whole
chunks computed that way are reused (`engines.reusable`, the local engines' rule), so a request's
answer is the same whatever came before. `serve_llm` passes `--n_batch 64`: up to 63 tokens
recomputed per request.

Requests. llama-cpp-python hands a request's GBNF grammar (its `grammar`, or the one it builds from
`response_format` or a forced tool's JSON schema) to llama.cpp unchecked; llama.cpp's parser refuses a
bad one by returning NULL, which llama-cpp-python adds to its sampler chain, and the process dies with
SIGSEGV (measured: `root ::= (`, `root ::= foo`, no root rule, left recursion). llama.cpp's recursive
parser also overflows the stack on deep nesting (20,000 nested groups, or a JSON schema with
`maxLength: 100000`, which the schema converter nests) and on very long rule chains. Here:
- `RequestGuard` (ASGI, in front of every route): bodies over `MAX_BODY_BYTES` get 413; a completion
  request gets 400 with an OpenAI-style JSON error when it is not JSON, fails llama-cpp-python's own
  request model (which it answered with 500), has a grammar (given or derived) that `grammar_problem`
  refuses, a `logit_bias` key that is not a token id of this model (llama-cpp-python dropped it
  silently, or biased a token counted from the end), or NaN/Infinity (not JSON). With `--api_key`, a
  request without the key is passed on untouched, so it gets the server's 401 as before.
- `ChunkedLlama.generate` checks every grammar once more, with the model's vocabulary (token references
  like `<|im_end|>`), right before llama.cpp sees it: whatever route or chat handler built it, a bad one
  raises `BadRequestError`, which the server's error handler answers with 400.
- `ChunkedLlama.sample` accepts a token into the grammar only when the grammar allowed it: a grammar that
  parses but that no token can continue (`root ::= "ok" <|im_end|>`) made llama.cpp accept a forbidden
  token and throw through its C API (std::terminate); it is now a 400 too.
A request refused this way costs the server nothing more: the next one is served as before.
"""

from __future__ import annotations

import json
import logging
import math
import re
import weakref
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

import llama_cpp

from .engines import reusable

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 2**20  # a full 8k-token context with tools is under 100 kB
MAX_GRAMMAR_CHARS = 256 * 1024  # the agent's tool-call grammar: 23 kB
MAX_GRAMMAR_RULES = 5_000  # llama.cpp recurses along rule chains: 50,000 measured safe, 200,000 crashed
MAX_GRAMMAR_DEPTH = 1_000  # nested groups: 15,000 measured safe on an 8 MB stack, 20,000 crashed
MAX_REPETITIONS = 10_000  # the sum of every {m,n} bound: each one becomes a rule of its own
_TOKEN_DATA = [("id", "<i4"), ("logit", "<f4"), ("p", "<f4")]  # llama_token_data
PREFIX = "invalid request"  # what the server's error handler recognises as a 400 (`_register_400`)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BadRequestError(ValueError):
    """A request the server refuses with 400; `param` names the offending field."""

    def __init__(self, param: str, problem: str) -> None:
        super().__init__(f"{PREFIX} ({param}): {problem}")
        self.param, self.problem = param, problem


_REPEAT = re.compile(r"\{\s*(\d+)\s*(?:,\s*(\d*)\s*)?\}")


def grammar_shape(text: str) -> tuple[int, int, int, bool]:
    """(deepest group nesting, rules, sum of repetition bounds, has token references) of a GBNF grammar,
    read the way llama.cpp's parser reads it: literals, character classes and comments skipped."""
    depth = deepest = rules = repeats = 0
    tokens = False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"[":  # a literal or a character class: to its unescaped end
            close = '"' if c == '"' else "]"
            i += 1
            while i < n and text[i] != close:
                i += 2 if text[i] == "\\" else 1
        elif c == "#":
            while i < n and text[i] not in "\r\n":
                i += 1
        elif c == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif c == ")":
            depth -= 1
        elif c == "<":
            tokens = True
        elif c == "{" and (m := _REPEAT.match(text, i)):
            repeats += sum(int(g) if len(g) < 10 else 10**10 for g in m.groups() if g)
        elif text.startswith("::=", i):
            rules += 1
        i += 1
    return deepest, rules, repeats, tokens


def grammar_problem(text: str, vocab: Any = None, native: bool = True) -> str | None:
    """Why llama.cpp must not get this GBNF grammar, or None when it may: too large, nested too deeply, too
    many rules or repetitions for its recursive parser (checked here, in Python), or refused by llama.cpp's
    own parser (its syntax, undefined rules, a missing `root`, left recursion), run when `native`.
    `vocab` (a llama_vocab pointer) resolves token references such as `<|im_end|>`; without one, a
    grammar that has them is left to the check made with the model's vocabulary."""
    if len(text) > MAX_GRAMMAR_CHARS:
        return f"longer than {MAX_GRAMMAR_CHARS:,} characters"
    deepest, rules, repeats, tokens = grammar_shape(text)
    if deepest > MAX_GRAMMAR_DEPTH:
        return (f"groups nested {deepest:,} deep (at most {MAX_GRAMMAR_DEPTH:,}; a JSON schema's maxLength "
                "nests that deep)")
    if rules > MAX_GRAMMAR_RULES:
        return f"{rules:,} rules (at most {MAX_GRAMMAR_RULES:,})"
    if repeats > MAX_REPETITIONS:
        return f"repetition bounds add up to {repeats:,} (at most {MAX_REPETITIONS:,})"
    if not native or (tokens and vocab is None):
        return None
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, text.encode("utf-8"), b"root")
    if not sampler:  # llama.cpp printed its reason on the server's stderr
        return ("llama.cpp's GBNF parser refused it: a syntax error, an undefined rule, no `root` rule, left "
                "recursion or an unknown token")
    llama_cpp.llama_sampler_free(sampler)
    return None


class ChunkedLlama(llama_cpp.Llama):
    """`Llama` whose prompt prefill never depends on the previous request, and which checks a grammar
    before llama.cpp sees it."""

    _whole = 0  # cached positions computed as whole n_batch chunks from position 0
    serving: weakref.ReferenceType[ChunkedLlama] | None = None  # the model the server loaded last

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ChunkedLlama.serving = weakref.ref(self)

    def reset(self):
        super().reset()
        self._whole = 0

    def generate(self, tokens: Sequence[int], *args, reset: bool = True, **kwargs):
        grammar = kwargs.get("grammar")
        if grammar is not None:  # given, or built from response_format / a tool's schema by a chat handler
            problem = grammar_problem(grammar._grammar, self._model.vocab)
            if problem:
                raise BadRequestError("grammar", problem)
        tokens = list(tokens)
        if reset and self.n_tokens > 0:
            # keep only whole chunks: llama-cpp-python's own prefix match then stops there
            keep = reusable(list(self._input_ids), tokens, self._whole, self.n_batch)
            if keep == 0:
                self.reset()
            else:
                self.n_tokens = keep
                self._whole = min(self._whole, keep)
        return super().generate(tokens, *args, reset=reset, **kwargs)

    def sample(self, *args: Any, grammar: Any = None, idx: int | None = None, **kwargs: Any) -> int:
        """With a grammar, llama.cpp's sampling split in two: the sampler chain picks a token, and it is
        accepted only when the grammar allowed it. llama.cpp's own `llama_sampler_sample` accepts whatever
        was picked; when a grammar allows no token at all (`root ::= "ok" <|im_end|>`: an end-of-text token
        is never allowed while the grammar is unfinished), every logit is -inf, the pick is token 0, and
        accepting it throws across the C boundary (measured: std::terminate, the server gone)."""
        if grammar is None or self._sampler is None:
            return super().sample(*args, grammar=grammar, idx=idx, **kwargs)
        import ctypes

        import numpy as np

        n_vocab = self._n_vocab
        logits = llama_cpp.llama_get_logits_ith(self._ctx.ctx, idx - self.n_tokens if idx is not None else -1)
        candidates = np.empty(n_vocab, dtype=_TOKEN_DATA)
        candidates["id"] = np.arange(n_vocab, dtype=np.int32)
        candidates["logit"] = np.ctypeslib.as_array(logits, shape=(n_vocab,))
        candidates["p"] = 0.0
        array = llama_cpp.llama_token_data_array(
            data=candidates.ctypes.data_as(llama_cpp.llama_token_data_p), size=n_vocab, selected=-1, sorted=False)
        llama_cpp.llama_sampler_apply(self._sampler.sampler, ctypes.byref(array))
        chosen = array.data[array.selected] if 0 <= array.selected < array.size else None
        if chosen is None or not math.isfinite(chosen.logit):
            raise BadRequestError("grammar", "no token of this model can continue the grammar (an end-of-text "
                                  "token cannot be required inside it, nor a text no token spells)")
        llama_cpp.llama_sampler_accept(self._sampler.sampler, chosen.id)
        return int(chosen.id)

    def eval(self, tokens: Sequence[int]):
        start = self.n_tokens
        self._whole = min(self._whole, start)
        super().eval(tokens)
        if start == self._whole and start % self.n_batch == 0:  # its chunks are the canonical ones
            self._whole = start + len(tokens) - len(tokens) % self.n_batch


def _schema_grammar(schema: Any) -> str | None:
    """The GBNF llama-cpp-python builds from a JSON schema, or None where it cannot (it then falls back to
    its generic JSON grammar, which is safe)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        return json_schema_to_gbnf(json.dumps(schema))
    except Exception:  # noqa: BLE001 - whatever the converter raises, llama-cpp-python falls back
        return None


def request_grammars(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, GBNF) for every grammar a completion request makes llama-cpp-python build: `grammar`, a
    `response_format` JSON schema, the schema of a tool forced by `tool_choice` (or legacy
    `function_call`)."""
    found: list[tuple[str, str]] = []
    if isinstance(body.get("grammar"), str):
        found.append(("grammar", body["grammar"]))
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_object" and \
            "schema" in response_format and (text := _schema_grammar(response_format["schema"])):
        found.append(("response_format", text))
    name = _forced_tool(body)
    tools = body.get("tools") or [{"function": f} for f in body.get("functions") or []]
    for tool in tools if name else []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and function.get("name") == name and \
                (text := _schema_grammar(function.get("parameters"))):
            found.append(("tools", text))
    return found


def _forced_tool(body: dict[str, Any]) -> str | None:
    """The tool a request forces: `tool_choice` {"function": {"name"}} or legacy `function_call` {"name"}."""
    choice = body.get("tool_choice") or body.get("function_call")
    function = choice.get("function", choice) if isinstance(choice, dict) else None
    return function.get("name") if isinstance(function, dict) else None


def check_request(path: str, raw: bytes, n_vocab: int | None) -> None:
    """Raise BadRequestError for a completion request llama-cpp-python would answer with 500 or that
    would reach llama.cpp's native code in a form that crashes it."""
    from llama_cpp.server.types import CreateChatCompletionRequest, CreateCompletionRequest
    from pydantic import ValidationError

    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise BadRequestError("body", "JSON nested too deeply") from None
    except ValueError as exc:
        raise BadRequestError("body", f"not JSON ({str(exc)[:120]})") from None
    if not isinstance(body, dict):
        raise BadRequestError("body", "a JSON object is expected")
    model = CreateChatCompletionRequest if path.endswith("/chat/completions") else CreateCompletionRequest
    try:
        model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise BadRequestError(where, "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                                               for e in exc.errors()[:5])[:500]) from None
    for param, text in request_grammars(body):
        problem = grammar_problem(text)
        if problem:
            raise BadRequestError(param, problem if param == "grammar" else
                                  f"the grammar built from it: {problem}")
    by_text = body.get("logit_bias_type") == "tokens"  # keys are token texts, looked up by the server
    for key in body.get("logit_bias") or {}:
        if not by_text and not (re.fullmatch(r"[0-9]{1,9}", key) and (n_vocab is None or int(key) < n_vocab)):
            raise BadRequestError("logit_bias", f"{key[:20]!r} is not a token id of this model"
                                  + (f" (0 to {n_vocab - 1})" if n_vocab else ""))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")  # Python's json reads NaN and Infinity; JSON has neither


class RequestGuard:
    """ASGI middleware in front of the server: body size cap (413), completion requests checked by
    `check_request` (400), everything else passed on as it came."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], api_key: str | None = None,
                 max_body: int = MAX_BODY_BYTES) -> None:
        self.app, self.api_key, self.max_body = app, api_key, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.max_body:
            await _error(send, 413, "body", f"request body over {self.max_body:,} bytes")
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_body:
                await _error(send, 413, "body", f"request body over {self.max_body:,} bytes")
                return
        raw = b"".join(chunks)
        key = headers.get(b"authorization", b"")
        authorized = self.api_key is None or key == f"Bearer {self.api_key}".encode()
        if authorized and scope["path"].endswith("/completions"):
            import anyio

            llama = ChunkedLlama.serving() if ChunkedLlama.serving else None
            n_vocab = llama.n_vocab() if llama is not None else None
            try:  # in a worker thread: a large schema's conversion must not stall the event loop
                await anyio.to_thread.run_sync(check_request, scope["path"], raw, n_vocab)
            except BadRequestError as exc:
                logger.warning("refused %s: %s", scope["path"], exc)
                await _error(send, 400, exc.param, exc.problem)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()  # the route may wait for the client's disconnect

        await self.app(scope, replay, send)


async def _error(send: Send, status: int, param: str, message: str) -> None:
    body = json.dumps({"error": {"message": message, "type": "invalid_request_error", "param": param,
                                 "code": None}}, separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _register_400() -> None:
    """Make the server's error handler answer a BadRequestError raised inside a route with 400 (it maps
    exceptions by their message; anything unknown is a 500)."""
    from llama_cpp.server.errors import ErrorResponse, RouteErrorHandler

    def bad_request(request: Any, match: re.Match[str]) -> tuple[int, ErrorResponse]:
        return 400, ErrorResponse(message=match.group(2), type="invalid_request_error", param=match.group(1),
                                  code=None)

    RouteErrorHandler.pattern_and_formatters[re.compile(rf"^{PREFIX} \((\w+)\): (.+)", re.S)] = bad_request


def main() -> None:
    import llama_cpp.server.__main__ as server

    llama_cpp.Llama = ChunkedLlama  # the server's model loader builds `llama_cpp.Llama` by name
    _register_400()
    create_app = server.create_app

    def guarded_app(**kwargs: Any) -> Any:
        app = create_app(**kwargs)
        settings = kwargs.get("server_settings")
        app.add_middleware(RequestGuard, api_key=getattr(settings, "api_key", None))
        return app

    server.create_app = guarded_app  # the server's main() builds its app through this name
    server.main()


if __name__ == "__main__":
    main()
