"""Request bodies of the OpenAI endpoints the gateway accepts.

They check what the gateway must know (the model, streaming, sane sampling values) and let
every other field through untouched: vLLM validates its own extensions, and the gateway
forwards the client's bytes as they came.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]
PositiveInt = Annotated[StrictInt, Field(ge=1)]


class _Passthrough(BaseModel):
    model_config = ConfigDict(extra="allow")


class StreamOptions(_Passthrough):
    include_usage: StrictBool | None = None


# Roles whose message must have content, as OpenAI requires; an assistant turn may carry
# ``tool_calls`` (or the legacy ``function_call``) instead, and a legacy ``function``
# message may have null content.
_CONTENT_REQUIRED = frozenset({"system", "developer", "user", "tool"})
_NOT_NULL = {"not": {"type": "null"}}
# The same rules, for the OpenAPI document (and the clients and fuzzers that read it).
_CONTENT_RULES: dict[str, Any] = {
    "allOf": [
        {
            "if": {"properties": {"role": {"enum": sorted(_CONTENT_REQUIRED)}}},
            "then": {"required": ["content"], "properties": {"content": _NOT_NULL}},
        },
        {
            "if": {"properties": {"role": {"const": "assistant"}}},
            "then": {
                "anyOf": [
                    {"required": ["content"], "properties": {"content": _NOT_NULL}},
                    {"required": ["tool_calls"]},
                    {"required": ["function_call"]},
                ]
            },
        },
    ]
}


class ChatMessage(_Passthrough):
    model_config = ConfigDict(extra="allow", json_schema_extra=_CONTENT_RULES)

    role: Role
    content: Annotated[str | list[dict[str, Any]] | None, Field(validate_default=True)] = None

    @field_validator("content", mode="after")
    @classmethod
    def _content_where_required(cls, content: object, info: ValidationInfo) -> object:
        role = info.data.get("role")
        if content is None and role in _CONTENT_REQUIRED:
            raise PydanticCustomError(
                "missing_content", "a '{role}' message needs content", {"role": role}
            )
        return content

    @model_validator(mode="after")
    def _assistant_says_something(self) -> ChatMessage:
        extra = self.model_extra or {}
        said = self.content is not None or extra.get("tool_calls") or extra.get("function_call")
        if self.role == "assistant" and not said:
            raise PydanticCustomError(
                "missing_content", "an 'assistant' message needs content or tool_calls"
            )
        return self


class _SamplingRequest(_Passthrough):
    model: Annotated[str, Field(min_length=1)]
    stream: StrictBool | None = False
    stream_options: StreamOptions | None = None
    max_tokens: PositiveInt | None = None
    n: PositiveInt | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(gt=0, le=1)] | None = None
    stop: str | list[str] | None = None
    seed: StrictInt | None = None


class ChatCompletionRequest(_SamplingRequest):
    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    max_completion_tokens: PositiveInt | None = None


class CompletionRequest(_SamplingRequest):
    prompt: str | list[str] | list[int] | list[list[int]]
