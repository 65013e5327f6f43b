"""The local causal LM behind `LocalChatModel`: a tokenizer and an inference engine (engines.py:
transformers or llama.cpp) loaded once per process, greedy decoding in its own loop over the
engine's prefix-reusing KV cache (a question prefills only its own tokens, an agent step only what
the last tool added), and tool-call JSON constrained by xgrammar to the bound tools' schemas, so
every call parses whatever the engine.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from .engines import Engine, LlamaCppEngine, TransformersEngine

logger = logging.getLogger(__name__)

TOOL_CALL_OPEN, TOOL_CALL_CLOSE = "<tool_call>", "</tool_call>"


def _starts_call(text: str) -> bool:
    """Generated text that opens a tool call: "{", a fenced block, or the tag spelled out."""
    t = text.lstrip()
    return t.startswith(("{", "```", TOOL_CALL_OPEN))


def _may_start_call(text: str) -> bool:
    """True while the text could still become a tool call (hold it back from the stream)."""
    t = text.lstrip()
    return not t or any(p.startswith(t) for p in ("{", "```", TOOL_CALL_OPEN))


REPEAT_WINDOW = 16
CALL_SLACK = 1024  # tokens a tool call begun near the end of the budget may still take to close (bounded schema)


def _repeating(tokens: list[int]) -> bool:
    """The last REPEAT_WINDOW tokens already occurred earlier in this output."""
    n = REPEAT_WINDOW
    if len(tokens) < 2 * n:
        return False
    tail = tokens[-n:]
    return any(tokens[i:i + n] == tail for i in range(len(tokens) - 2 * n + 1))


MAX_ARG_CHARS = 200  # a string argument the grammar lets the model write, at most
MAX_ARG_ITEMS = 8


def _bounded(schema: Any) -> Any:
    """`schema` with a length bound on every free string and list, so that a grammar-constrained call
    always closes within the token budget (a small model can otherwise repeat inside a string until
    the budget ends, leaving JSON that does not parse). The prompt still shows the tools unchanged."""
    if isinstance(schema, list):
        return [_bounded(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _bounded(v) for k, v in schema.items()}
    if out.get("type") == "string" and not {"enum", "const", "maxLength"} & set(out):
        out["maxLength"] = MAX_ARG_CHARS
    if out.get("type") == "array" and "maxItems" not in out:
        out["maxItems"] = MAX_ARG_ITEMS
    return out


def tool_call_schema(tools: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """JSON schema of one call to any of the (OpenAI-format) tools, its strings and lists bounded."""
    options = []
    for t in tools:
        fn = t["function"]
        params = _bounded(dict(fn.get("parameters") or {"type": "object", "properties": {}}))
        params.setdefault("type", "object")
        params["additionalProperties"] = False
        options.append({"type": "object", "properties": {"name": {"const": fn["name"]}, "arguments": params},
                        "required": ["name", "arguments"], "additionalProperties": False})
    return options[0] if len(options) == 1 else {"anyOf": options}


class LocalLM:
    """The loaded model, tokenizer, compiled grammars and the reusable KV cache (one per process)."""

    def __init__(self, tokenizer: Any, engine: Engine, model_name: str = "") -> None:
        self.tokenizer = tokenizer
        self.engine = engine
        self.model_name = model_name
        self.load_s = engine.load_s
        self.lock = threading.Lock()
        self._grammars: dict[str, Any] = {}
        self._compiler = None
        self._call_start = None
        self.trace: list[dict[str, Any]] | None = None  # set to a list to record every call (benchmarks)
        self.prefix_source = ""  # where the shared prefix came from: memory, disk or computed
        self.open_id = self.tokenizer.convert_tokens_to_ids(TOOL_CALL_OPEN)
        stops = {self.tokenizer.eos_token_id, self.tokenizer.convert_tokens_to_ids("<|im_end|>")}
        self.stop_ids = {s for s in stops if isinstance(s, int) and s >= 0}

    def describe(self) -> dict[str, str]:
        """{engine, model, quantization}: what `ask --json` and eval's run.json record."""
        return {"model": self.model_name, **self.engine.describe()}

    def grammar(self, schema: dict[str, Any]):
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            import xgrammar as xgr

            if self._compiler is None:
                info = xgr.TokenizerInfo.from_huggingface(self.tokenizer, vocab_size=self.engine.vocab_size)
                self._compiler = xgr.GrammarCompiler(info)
            # a call exactly as the chat template renders one: {"name": ..., "arguments": ...} in that order, tojson's
            # ", " and ": ", then the newline before </tool_call> (Qwen's tokenizer merges it with the closing
            # braces into one token, '"}}\n', that a grammar ending at "}" would forbid; compiling the sorted key
            # put "arguments" first). A fine-tuned model then writes its calls as it learned them.
            call = xgr.Grammar.from_json_schema(json.dumps(schema), any_whitespace=False, separators=(", ", ": "))
            self._grammars[key] = self._compiler.compile_grammar(
                xgr.Grammar.concat(call, xgr.Grammar.from_ebnf('root ::= "\\n"')))
        return self._grammars[key]

    def _warm(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, ids: list[int]) -> int:
        """Before a fresh engine's first prompt: the shared prefix (system prompt + tool schemas, the
        same for every question) from its disk cache, or computed and saved (llama-cpp). Returns the
        tokens computed for it."""
        if self.engine.cached_ids or not messages or messages[0].get("role") != "system":
            return 0
        prefix = self.tokenizer.apply_chat_template(messages[:1], tools=tools or None, tokenize=True)
        prefix = list(prefix["input_ids"] if hasattr(prefix, "input_ids") else prefix)
        if len(prefix) >= len(ids) or ids[:len(prefix)] != prefix:
            return 0
        from .weights import llm_cache_dir

        self.prefix_source = self.engine.warm_prefix(prefix, llm_cache_dir() / "prefix")
        return len(prefix) if self.prefix_source == "computed" else 0

    def reset_cache(self) -> None:
        """Forget the cached KV prefix (the next call prefills its whole prompt)."""
        with self.lock:
            self.engine.reset()

    def _open_call(self, tools: list[dict[str, Any]]):
        """Feed Qwen's `<tool_call>` opening; returns (logits, its tokens, a grammar matcher for `tools`)."""
        opening = self.tokenizer.encode(TOOL_CALL_OPEN + "\n")
        for tok in opening:
            logits = self.engine.step(tok)
        return logits, list(opening), self._matcher(tools)

    def generate(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
                 max_new_tokens: int = 512, mode: str = "auto",
                 call_tools: list[dict[str, Any]] | None = None) -> Iterator[tuple[str, Any]]:
        """Yield ("text", piece) while decoding, then ("done", stats) with the text or tool call.

        `tools` are rendered into the prompt (the same list every step keeps the KV prefix);
        `mode`: "force" a call, "auto" (text, or a call when the model starts one) or "none" (text
        only); a call is constrained to the schemas of `call_tools` (default: all of `tools`).
        """
        import torch

        with self.lock:
            t0 = time.perf_counter()
            ids = self.tokenizer.apply_chat_template(messages, tools=tools or None, add_generation_prompt=True,
                                                     tokenize=True)
            if hasattr(ids, "input_ids"):
                ids = ids["input_ids"]
            ids = list(ids)
            warmed = self._warm(messages, tools, ids)
            logits, prefilled = self.engine.prefill(ids)
            prefilled += warmed
            t1 = time.perf_counter()
            generated: list[int] = []
            held: list[int] = []  # text not yet streamed: it may still turn out to be a tool call
            matcher, call_ids = None, []
            call_tools = call_tools or tools
            if mode == "none" or not call_tools:  # tools may be listed in the system prompt instead (compact)
                call_tools = None
            if mode == "force" and call_tools:
                logits, generated, matcher = self._open_call(call_tools)
            while len(generated) < max_new_tokens + (CALL_SLACK if matcher is not None else 0):
                if matcher is not None:
                    import xgrammar as xgr

                    mask = xgr.allocate_token_bitmask(1, self.engine.vocab_size)
                    matcher.fill_next_token_bitmask(mask)
                    scores = logits.unsqueeze(0).float().clone()
                    xgr.apply_token_bitmask_inplace(scores, mask)
                    token = int(torch.argmax(scores[0]))
                elif not call_tools and not generated:
                    # text only: the answer may not open like a tool call (small models echo the call)
                    token = int(torch.argmax(logits.float().index_fill(0, self.call_start_ids(), float("-inf"))))
                else:
                    token = int(torch.argmax(logits))
                    if token == self.open_id and not call_tools:  # no calls allowed: the next best token
                        token = int(torch.topk(logits, 2).indices[1])
                if matcher is None and token in self.stop_ids:
                    break
                generated.append(token)
                if matcher is not None:
                    matcher.accept_token(token)
                    call_ids.append(token)
                    if matcher.is_terminated():
                        break
                elif call_tools and (token == self.open_id or _starts_call(self.tokenizer.decode(generated))):
                    # the model means to call a tool (Qwen's <tool_call> token, or raw/fenced JSON as
                    # small models often write): restart this turn as a grammar-constrained call
                    self.engine.truncate(len(ids))
                    logits, generated, matcher = self._open_call(call_tools)
                    continue
                elif _repeating(generated):  # greedy decoding of a small model can loop: stop there
                    generated = generated[:-REPEAT_WINDOW]
                    held = held[:-REPEAT_WINDOW] if len(held) >= REPEAT_WINDOW else []
                    break
                else:
                    held.append(token)
                    text_so_far = self.tokenizer.decode(held)
                    if not call_tools or not _may_start_call(text_so_far):
                        yield "text", text_so_far
                        held = []
                logits = self.engine.step(token)
            t2 = time.perf_counter()
            if held and matcher is None:
                yield "text", self.tokenizer.decode(held)
            text = self.tokenizer.decode([t for t in generated if t != self.open_id] if matcher else generated,
                                         skip_special_tokens=True)
            call = None
            if matcher is not None:
                call = json.loads(self.tokenizer.decode(call_ids, skip_special_tokens=True))
                text = text.split(TOOL_CALL_OPEN)[0].strip() if TOOL_CALL_OPEN in text else ""
                # keep the cache consistent with how the template will render this turn next time
                self.engine.truncate(len(ids))
            stats = {"text": text.strip() if call else text, "call": call, "prompt_tokens": len(ids),
                     "prefilled_tokens": prefilled, "completion_tokens": len(generated),
                     "prefill_s": t1 - t0, "decode_s": t2 - t1}
            if self.trace is not None:
                self.trace.append(stats | {"ids": ids})
            yield "done", stats

    def call_start_ids(self):
        """Ids of tokens that would open a tool call or echo a tool tag in text: "<", "{", a fence."""
        if self._call_start is None:
            import torch

            vocab = self.tokenizer.get_vocab()
            ids = [i for tok, i in vocab.items() if i < self.engine.vocab_size and
                   self.tokenizer.convert_tokens_to_string([tok]).lstrip().startswith(("{", "`", "<"))]
            self._call_start = torch.tensor(sorted(set(ids) | {self.open_id}), dtype=torch.long)
        return self._call_start

    def _matcher(self, tools: list[dict[str, Any]]):
        import xgrammar as xgr

        return xgr.GrammarMatcher(self.grammar(tool_call_schema(tools)))


_LOADED: dict[tuple[str, str, str | None, str], LocalLM] = {}
_LOAD_LOCK = threading.Lock()


def load_local_lm(model: str | None = None, engine: str = "transformers", adapter: str | None = None,
                  quantization: str = "shipped") -> LocalLM:
    """The shared LocalLM for a model name/path on an engine, with an optional LoRA adapter (loaded
    once per process). See weights.py for what a model name and a quantization may be."""
    from .weights import DEFAULT_MODEL, resolve_model

    name = (model or DEFAULT_MODEL).strip()
    quantization = quantization if engine == "llama-cpp" else "shipped"
    key = (name, engine, adapter, quantization)
    with _LOAD_LOCK:
        if key not in _LOADED:
            files = resolve_model(name, engine, quantization)
            if engine == "llama-cpp":
                engine_ = LlamaCppEngine(files.weights, adapter=_gguf_adapter(adapter))
            else:
                engine_ = TransformersEngine(files.weights, adapter=adapter)
            _LOADED[key] = LocalLM(files.tokenizer(), engine_, name)
        return _LOADED[key]


def _gguf_adapter(adapter: str | None) -> str | None:
    """A LoRA adapter for llama.cpp: a .gguf file as it is, a PEFT folder converted once (lora.py)."""
    if not adapter or adapter.endswith(".gguf"):
        return adapter
    from .lora import peft_to_gguf

    return str(peft_to_gguf(adapter))
