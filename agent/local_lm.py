"""The local causal LM behind `LocalChatModel`: weights loaded once per process, greedy decoding in
its own loop with a reused KV cache (only what the last tool added is prefilled), and tool-call JSON
constrained by xgrammar to the bound tools' schemas, so every call parses.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

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


def _repeating(tokens: list[int]) -> bool:
    """The last REPEAT_WINDOW tokens already occurred earlier in this output."""
    n = REPEAT_WINDOW
    if len(tokens) < 2 * n:
        return False
    tail = tokens[-n:]
    return any(tokens[i:i + n] == tail for i in range(len(tokens) - 2 * n + 1))


def tool_call_schema(tools: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """JSON schema of one call to any of the (OpenAI-format) tools."""
    options = []
    for t in tools:
        fn = t["function"]
        params = dict(fn.get("parameters") or {"type": "object", "properties": {}})
        params.setdefault("type", "object")
        params["additionalProperties"] = False
        options.append({"type": "object", "properties": {"name": {"const": fn["name"]}, "arguments": params},
                        "required": ["name", "arguments"], "additionalProperties": False})
    return options[0] if len(options) == 1 else {"anyOf": options}


class LocalLM:
    """The loaded model, tokenizer, compiled grammars and the reusable KV cache (one per process)."""

    def __init__(self, path: str, threads: int | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        t = time.perf_counter()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        self.model.eval()
        self.load_s = time.perf_counter() - t
        self.lock = threading.Lock()
        self._grammars: dict[str, Any] = {}
        self._compiler = None
        self._cache = None
        self._cached_ids: list[int] = []
        self._call_start = None
        self.trace: list[dict[str, Any]] | None = None  # set to a list to record every call (benchmarks)
        self.open_id = self.tokenizer.convert_tokens_to_ids(TOOL_CALL_OPEN)
        stops = {self.tokenizer.eos_token_id, self.tokenizer.convert_tokens_to_ids("<|im_end|>")}
        self.stop_ids = {s for s in stops if isinstance(s, int) and s >= 0}

    def grammar(self, schema: dict[str, Any]):
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            import xgrammar as xgr

            if self._compiler is None:
                info = xgr.TokenizerInfo.from_huggingface(self.tokenizer, vocab_size=self.model.config.vocab_size)
                self._compiler = xgr.GrammarCompiler(info)
            self._grammars[key] = self._compiler.compile_json_schema(key, any_whitespace=False)
        return self._grammars[key]

    def _prefill(self, ids: list[int]):
        """Logits after `ids`, reusing the cached prefix; returns (logits, prefilled token count)."""
        import torch
        from transformers import DynamicCache

        common = 0
        for a, b in zip(self._cached_ids, ids, strict=False):
            if a != b:
                break
            common += 1
        common = min(common, len(ids) - 1)  # always feed at least one token
        if self._cache is None or common == 0:
            self._cache, common = DynamicCache(), 0
        else:
            self._truncate(common)
        new = torch.tensor([ids[common:]])
        with torch.inference_mode():
            out = self.model(input_ids=new, past_key_values=self._cache, use_cache=True)
        self._cached_ids = list(ids)
        return out.logits[0, -1], len(ids) - common

    def reset_cache(self) -> None:
        """Forget the cached KV prefix (the next call prefills its whole prompt)."""
        with self.lock:
            self._cache, self._cached_ids = None, []

    def _truncate(self, keep: int) -> None:
        """Drop cached positions after the first `keep` (transformers' crop takes minus the count)."""
        extra = self._cache.get_seq_length() - keep
        if extra > 0:
            self._cache.crop(-extra)
        del self._cached_ids[keep:]

    def _open_call(self, tools: list[dict[str, Any]]):
        """Feed Qwen's `<tool_call>` opening; returns (logits, its tokens, a grammar matcher for `tools`)."""
        opening = self.tokenizer.encode(TOOL_CALL_OPEN + "\n")
        for tok in opening:
            logits = self._step(tok)
        return logits, list(opening), self._matcher(tools)

    def _step(self, token: int):
        import torch

        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([[token]]), past_key_values=self._cache, use_cache=True)
        self._cached_ids.append(token)
        return out.logits[0, -1]

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
            logits, prefilled = self._prefill(ids)
            t1 = time.perf_counter()
            generated: list[int] = []
            held: list[int] = []  # text not yet streamed: it may still turn out to be a tool call
            matcher, call_ids = None, []
            call_tools = call_tools or tools
            if mode == "none" or not tools:
                call_tools = None
            if mode == "force" and call_tools:
                logits, generated, matcher = self._open_call(call_tools)
            while len(generated) < max_new_tokens:
                if matcher is not None:
                    import xgrammar as xgr

                    mask = xgr.allocate_token_bitmask(1, self.model.config.vocab_size)
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
                    self._truncate(len(ids))
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
                logits = self._step(token)
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
                self._truncate(len(ids))
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
            ids = [i for tok, i in vocab.items() if i < self.model.config.vocab_size and
                   self.tokenizer.convert_tokens_to_string([tok]).lstrip().startswith(("{", "`", "<"))]
            self._call_start = torch.tensor(sorted(set(ids) | {self.open_id}), dtype=torch.long)
        return self._call_start

    def _matcher(self, tools: list[dict[str, Any]]):
        import xgrammar as xgr

        return xgr.GrammarMatcher(self.grammar(tool_call_schema(tools)))


_LOADED: dict[str, LocalLM] = {}
_LOAD_LOCK = threading.Lock()


def load_local_lm(model: str | None = None) -> LocalLM:
    """The shared LocalLM for a model name/path (loaded once per process)."""
    from .weights import resolve_model_path

    path = resolve_model_path(model)
    with _LOAD_LOCK:
        if path not in _LOADED:
            _LOADED[path] = LocalLM(path)
        return _LOADED[path]
