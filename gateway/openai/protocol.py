"""Request bodies of the OpenAI endpoints the gateway accepts.

They check what the gateway must know (the model, streaming, sane sampling values) and let
every other field through untouched: vLLM validates its own extensions, and the gateway
forwards the client's bytes as they came.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]
PositiveInt = Annotated[StrictInt, Field(ge=1)]


class _Passthrough(BaseModel):
    model_config = ConfigDict(extra="allow")


class StreamOptions(_Passthrough):
    include_usage: StrictBool | None = None


class ChatMessage(_Passthrough):
    role: Role
    content: str | list[dict[str, Any]] | None = None


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
