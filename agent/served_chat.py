"""The agent's model on an OpenAI-compatible server (`litmol serve llm`: llama.cpp's server on CPU, vLLM on a
GPU), with valid tool calls by construction.

A small model asked for a call through the plain `tools` API writes the tool's name as text (measured
through `transformers serve`: those answers scored 0). Here every call is generated under the server's
structured outputs: the reply must match the JSON schema of one call to one of the offered tools
(`local_lm.tool_call_schema`, strings and lists bounded), so it always names a real tool and parses.
The turn logic is the local model's (`local_chat._decoding_mode`): the first turn after the question is a
forced call, later turns answer in text (a reply that starts a call there is regenerated as a
constrained call), and the same prompt styles apply, so a server running the same weights answers
like the local backend.

Structured outputs are asked the OpenAI way first (`response_format` json_schema: vLLM, llama.cpp's
llama-server); a server that rejects it (llama-cpp-python's) gets its `json_object` + `schema` form.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

from .local_chat import ANSWER_NUDGE, _decoding_mode, to_template_messages
from .local_lm import tool_call_schema

logger = logging.getLogger(__name__)

# a text reply that is really a call: Qwen's tag, or JSON naming a tool
_CALL_START = re.compile(r"^\s*(<tool_call>|```(?:json)?\s*\{|\{\s*\"name\"\s*:)")


class ServedChatModel(BaseChatModel):
    """Chat model on an OpenAI-compatible server; tool calls constrained by the server's structured outputs."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    base_url: str = Field(description="The server's /v1 URL, e.g. http://127.0.0.1:8300/v1.")
    model_name: str = Field(default="litmol", description="The model name the server knows.")
    api_key: str = Field(default="none", repr=False, description="Sent as the bearer token (servers that check it).")
    timeout_s: float = Field(default=300.0, description="Seconds for one completion.")
    max_tokens: int = Field(default=384, description="Decoding budget per model call.")
    force_tool_calls: bool = Field(default=True, description="The first turn after the question is a call.")
    tool_rounds: int = Field(default=1, ge=1, le=2, description="Tool families one answer may use (as local).")
    tools_in_prompt: bool = Field(
        default=True, description="Send the tool schemas for the chat template's tools block; False: the agent "
        "lists them a line each in its system prompt (a fine-tuned model, as the local backend does).")
    structured: str = Field(default="auto", description="auto, json_schema or json_object (llama-cpp-python).")
    _client: Any = PrivateAttr(default=None)
    _flavor: str | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "litmol-served"

    @property
    def openai_api_base(self) -> str:  # what describe_chat_model and check_backend read
        return self.base_url

    def describe(self) -> dict[str, str]:
        return {"backend": "openai", "model": self.model_name, "engine": "server", "base_url": self.base_url,
                "tool_calls": "structured outputs"}

    @property
    def client(self):
        if self._client is None:
            from openai import OpenAI

            self._client = OpenAI(base_url=self.base_url, api_key=self.api_key or "none", timeout=self.timeout_s,
                                  max_retries=1)
        return self._client

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any):
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
                  schema: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        """One completion: text, or (with `schema`) JSON the server's grammar held to it."""
        kwargs: dict[str, Any] = {"model": self.model_name, "messages": messages, "temperature": 0,
                                  "max_tokens": self.max_tokens}
        if tools and self.tools_in_prompt:
            kwargs["tools"] = tools  # rendered by the chat template; never tool_choice: calls come from the schema
        if schema is None:
            reply = self.client.chat.completions.create(**kwargs)
            return reply.choices[0].message.content or "", _usage(reply)
        import openai

        flavors = [self._flavor] if self._flavor else (
            ["json_schema", "json_object"] if self.structured == "auto" else [self.structured])
        for i, flavor in enumerate(flavors):
            response_format = ({"type": "json_schema", "json_schema": {"name": "tool_call", "schema": schema}}
                               if flavor == "json_schema" else {"type": "json_object", "schema": schema})
            try:
                reply = self.client.chat.completions.create(**kwargs, response_format=response_format)
            except openai.APIStatusError as exc:  # llama-cpp-python answers 500 to a response_format it lacks
                if i + 1 < len(flavors) and (exc.status_code in (400, 422) or "response_format" in str(exc)):
                    continue
                raise
            self._flavor = flavor
            return reply.choices[0].message.content or "", _usage(reply)
        raise RuntimeError("no structured-output form accepted")  # not reached

    def _call(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
              call_tools: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        text, usage = self._complete(messages, tools, tool_call_schema(call_tools))
        try:
            call = json.loads(text)
        except json.JSONDecodeError:  # cut by max_tokens: the schema bounds every string, so rare
            logger.warning("the server's constrained call did not parse (%d chars)", len(text))
            return None, usage
        return call, usage

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        tools, tool_choice = kwargs.get("tools"), kwargs.get("tool_choice")
        mode, call_tools = _decoding_mode(messages, tools, tool_choice, self.force_tool_calls, self.tool_rounds)
        rendered = to_template_messages(messages, openai=True)
        if mode == "none" and tools and any(m.type == "tool" for m in messages):
            question = next((m.content for m in reversed(messages) if m.type == "human"), "")
            rendered.append({"role": "user", "content": ANSWER_NUDGE.format(question=question)})
        if mode != "none" and not call_tools:
            call_tools = tools
        call, text, usage = None, "", {}
        if mode == "force":
            call, usage = self._call(rendered, tools, call_tools)
        else:
            text, usage = self._complete(rendered, tools, None)
            if _CALL_START.match(text):
                if mode == "auto":  # the model means to call: regenerate the turn as a constrained call
                    call, usage = self._call(rendered, tools, call_tools)
                    text = ""
                else:  # answers only now: the call it echoed is not an answer
                    text = _CALL_START.sub("", text).strip()
        tool_calls = []
        if call is not None:
            tool_calls = [{"name": call["name"], "args": call.get("arguments") or {},
                           "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}]
        message = AIMessage(content=text, tool_calls=tool_calls,
                            response_metadata={"model_name": self.model_name, "engine": "server"},
                            usage_metadata=usage or None)
        if run_manager and text:
            run_manager.on_llm_new_token(text)
        return ChatResult(generations=[ChatGeneration(message=message)])


def _usage(reply: Any) -> dict[str, Any]:
    u = getattr(reply, "usage", None)
    if u is None:
        return {}
    return {"input_tokens": u.prompt_tokens or 0, "output_tokens": u.completion_tokens or 0,
            "total_tokens": u.total_tokens or 0}
