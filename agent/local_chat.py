"""A LangChain chat model over a local transformers causal LM, with tool calls valid by construction.

LangChain's ChatHuggingFace cannot call tools with a local pipeline (langchain issue 29033), so this
renders the bound tools through the model's own chat template (Qwen2.5's `<tool_call>` format) and
decodes greedily in its own loop:

- free text until the model emits the `<tool_call>` token; from there the JSON of the call is
  constrained by xgrammar to the union of the bound tools' schemas ({"name": ..., "arguments":
  {...}}), compact, so every call parses and matches its tool's schema;
- the KV cache of the previous call is kept and reused for the longest common token prefix, so an
  agent step only prefills what the last tool added (prefill dominates on a CPU);
- timings (prefill, decode, tokens) are reported in `response_metadata`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

logger = logging.getLogger(__name__)

TOOL_CALL_OPEN, TOOL_CALL_CLOSE = "<tool_call>", "</tool_call>"


def to_template_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages -> the role/content dicts that HF chat templates read."""
    out: list[dict[str, Any]] = []
    for m in messages:
        content = m.content if isinstance(m.content, str) else json.dumps(m.content)
        if m.type == "system":
            out.append({"role": "system", "content": content})
        elif m.type == "human":
            out.append({"role": "user", "content": content})
        elif m.type == "ai":
            item: dict[str, Any] = {"role": "assistant", "content": content}
            if getattr(m, "tool_calls", None):
                item["tool_calls"] = [{"type": "function", "function": {"name": c["name"], "arguments": c["args"]}}
                                      for c in m.tool_calls]
            out.append(item)
        elif isinstance(m, ToolMessage):
            out.append({"role": "tool", "content": content, "name": m.name or ""})
        else:
            out.append({"role": "user", "content": content})
    return out


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


def _decoding_mode(messages: Sequence[BaseMessage], tools: list[dict[str, Any]] | None, tool_choice: Any,
                   force_first: bool, tool_rounds: int = 1) -> tuple[str, list[dict[str, Any]] | None]:
    """("force" | "auto" | "none", tools a call may use) for this turn; a named tool_choice keeps
    every tool in the prompt (the KV prefix stays valid) but constrains the call to that tool."""
    if not tools or tool_choice == "none":
        return "none", None
    if isinstance(tool_choice, dict):
        name = (tool_choice.get("function") or {}).get("name") or tool_choice.get("name")
        return "force", [t for t in tools if t["function"]["name"] == name] or tools
    if isinstance(tool_choice, str) and tool_choice not in {"auto", "any", "required"}:
        return "force", [t for t in tools if t["function"]["name"] == tool_choice] or tools
    if tool_choice in {"any", "required"}:
        return "force", tools
    since_user = []
    for m in reversed(messages):
        if m.type == "human":
            break
        since_user.append(m)
    results = {m.tool_call_id: m for m in since_user if isinstance(m, ToolMessage)}
    if not results:
        return ("force" if force_first else "auto"), tools
    # after a result: answer in text, or call a tool of the other family (literature / molecule).
    # Small models otherwise keep calling tools instead of answering; final_answer is for turn one.
    used = {FAMILY.get(c["name"], c["name"]) for m in since_user for c in getattr(m, "tool_calls", None) or []
            if c.get("id") in results}
    left = [t for t in tools if FAMILY.get(t["function"]["name"], t["function"]["name"]) not in used
            and t["function"]["name"] != "final_answer"]
    return ("auto", left) if left and len(used) < tool_rounds else ("none", None)


FAMILY = {"search_literature": "literature", "get_article": "literature", "find_links": "literature",
          "resolve_molecule": "molecule",
          "predict_properties": "molecule"}
ANSWER_NUDGE = ("Now answer my question from the tool results above, in two to four plain sentences with the "
                "values or findings; cite passages as [PMID:number]; no tool calls. My question: {question}")


class LocalChatModel(BaseChatModel):
    """Chat model over a local transformers LM (default: Qwen2.5-Coder-0.5B-Instruct, offline)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_name: str = Field(default="0.5b", description="Shipped model (0.5b, 1.5b), local folder or HF id.")
    max_new_tokens: int = Field(default=384, description="Decoding budget per model call.")
    force_tool_calls: bool = Field(
        default=True, description="With tools bound, the first turn after the user's message is a grammar-"
        "constrained call (the agent adds a final_answer tool for questions that need none); small models "
        "otherwise answer from memory instead of searching. Later turns answer in text or call again.")
    tool_rounds: int = Field(
        default=1, ge=1, le=2, description="Tool families (literature, molecule) one answer may use. The 0.5B "
        "model, offered a second, always takes it and then summarizes the wrong result: 1 by default.")
    _lm: LocalLM | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "litmol-local"

    @property
    def lm(self) -> LocalLM:
        if self._lm is None:
            self._lm = load_local_lm(self.model_name)
        return self._lm

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any):
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _run(self, messages: list[BaseMessage], tools: list[dict[str, Any]] | None, tool_choice: Any,
             run_manager: CallbackManagerForLLMRun | None) -> Iterator[ChatGenerationChunk]:
        mode, call_tools = _decoding_mode(messages, tools, tool_choice, self.force_tool_calls, self.tool_rounds)
        rendered = to_template_messages(messages)
        if mode == "none" and tools and any(m.type == "tool" for m in messages):
            # text only after tool results: restate the task as the user's turn (appended, so the
            # KV prefix holds); small models otherwise echo tool calls instead of answering
            question = next((m.content for m in reversed(messages) if m.type == "human"), "")
            rendered.append({"role": "user", "content": ANSWER_NUDGE.format(question=question)})
        for kind, value in self.lm.generate(rendered, tools, self.max_new_tokens, mode, call_tools):
            if kind == "text":
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=value))
                if run_manager:
                    run_manager.on_llm_new_token(value, chunk=chunk)
                yield chunk
                continue
            stats = value
            tool_calls = []
            if stats["call"] is not None:
                tool_calls = [{"name": stats["call"]["name"], "args": stats["call"]["arguments"],
                               "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}]
            meta = {k: stats[k] for k in ("prompt_tokens", "prefilled_tokens", "completion_tokens", "prefill_s",
                                          "decode_s")}
            usage = {"input_tokens": stats["prompt_tokens"], "output_tokens": stats["completion_tokens"],
                     "total_tokens": stats["prompt_tokens"] + stats["completion_tokens"]}
            yield ChatGenerationChunk(message=AIMessageChunk(
                content="", tool_call_chunks=[{"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"],
                                               "index": i, "type": "tool_call_chunk"}
                                              for i, c in enumerate(tool_calls)],
                response_metadata=meta | {"model_name": self.model_name}, usage_metadata=usage))

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        yield from self._run(messages, kwargs.get("tools"), kwargs.get("tool_choice"), run_manager)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        merged: ChatGenerationChunk | None = None
        for chunk in self._run(messages, kwargs.get("tools"), kwargs.get("tool_choice"), run_manager):
            merged = chunk if merged is None else merged + chunk
        message = merged.message if merged else AIMessageChunk(content="")
        ai = AIMessage(content=message.content, tool_calls=message.tool_calls,
                       response_metadata=message.response_metadata, usage_metadata=message.usage_metadata)
        return ChatResult(generations=[ChatGeneration(message=ai)])
