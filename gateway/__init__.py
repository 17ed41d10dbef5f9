"""The loragate HTTP gateway: OpenAI-compatible API in front of vLLM."""

__version__ = "0.1.0"
