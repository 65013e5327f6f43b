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
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

from .local_lm import LocalLM, load_local_lm

logger = logging.getLogger(__name__)



def to_template_messages(messages: Sequence[BaseMessage], openai: bool = False) -> list[dict[str, Any]]:
    """LangChain messages -> the role/content dicts that HF chat templates read; `openai`: as the OpenAI
    chat protocol sends them (calls with ids and JSON-string arguments, results by call id)."""
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
                item["tool_calls"] = [
                    {"id": c.get("id") or f"call_{i}", "type": "function",
                     "function": {"name": c["name"], "arguments": json.dumps(c["args"])}} if openai else
                    {"type": "function", "function": {"name": c["name"], "arguments": c["args"]}}
                    for i, c in enumerate(m.tool_calls)]
            out.append(item)
        elif isinstance(m, ToolMessage):
            out.append({"role": "tool", "content": content, **({"tool_call_id": m.tool_call_id} if openai
                                                                else {"name": m.name or ""})})
        else:
            out.append({"role": "user", "content": content})
    return out


def tool_listing(specs: list[dict[str, Any]]) -> str:
    """A line per tool, `name(arg, ...): first sentence of its description`: how a fine-tuned model is
    shown its tools (the chat template's JSON schemas cost about 900 tokens; this about 150)."""
    lines = []
    for spec in specs:
        fn = spec["function"]
        args = ", ".join((fn.get("parameters") or {}).get("properties") or {})
        first = fn.get("description", "").split("\n")[0].split(". ")[0].rstrip(".")
        lines.append(f"- {fn['name']}({args}): {first}.")
    return "\n".join(lines)


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
          "resolve_molecule": "molecule", "drug_facts": "molecule",
          "predict_properties": "molecule"}
ANSWER_NUDGE = ("Now answer my question from the tool results above, in two to four plain sentences with the "
                "values or findings; cite passages as [PMID:number]; no tool calls. My question: {question}")


class LocalChatModel(BaseChatModel):
    """Chat model over a local transformers LM (default: Qwen2.5-Coder-0.5B-Instruct, offline)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_name: str = Field(default="0.5b", description="Shipped model (0.5b, 1.5b), local folder, .gguf or HF id.")
    engine: str = Field(default="transformers", description="transformers or llama-cpp (see engines.py).")
    adapter: str | None = Field(default=None, description="A LoRA adapter: a PEFT folder (either engine) or a .gguf.")
    quantization: str = Field(default="shipped", description="llama-cpp: shipped (Q4_K_M), q4_0, q8_0 or iq4_nl.")
    max_new_tokens: int = Field(default=384, description="Decoding budget per model call.")
    force_tool_calls: bool = Field(
        default=True, description="With tools bound, the first turn after the user's message is a grammar-"
        "constrained call (the agent adds a final_answer tool for questions that need none); small models "
        "otherwise answer from memory instead of searching. Later turns answer in text or call again.")
    tool_rounds: int = Field(
        default=1, ge=1, le=2, description="Tool families (literature, molecule) one answer may use. The 0.5B "
        "model, offered a second, always takes it and then summarizes the wrong result: 1 by default.")
    tools_in_prompt: bool = Field(
        default=True, description="Render the tool schemas into the prompt (the chat template's tools block); a "
        "fine-tuned model reads a line per tool in its system prompt instead. Calls are grammar-constrained either way.")
    _lm: LocalLM | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "litmol-local"

    @property
    def lm(self) -> LocalLM:
        if self._lm is None:
            self._lm = load_local_lm(self.model_name, self.engine, self.adapter, self.quantization)
        return self._lm

    def describe(self) -> dict[str, str]:
        """{backend, model, engine, quantization} of the loaded model."""
        return {"backend": "local", **self.lm.describe()}

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
        shown = tools if self.tools_in_prompt else None
        if mode != "none" and not self.tools_in_prompt:
            call_tools = call_tools or tools
        for kind, value in self.lm.generate(rendered, shown, self.max_new_tokens, mode, call_tools):
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
                response_metadata=meta | {"model_name": self.model_name, "engine": self.lm.engine.name},
                usage_metadata=usage))

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
