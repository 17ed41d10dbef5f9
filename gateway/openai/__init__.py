"""The OpenAI-compatible API: protocol models, the serving logic and its routes."""
