"""Serving LoRA adapters: loading them into the engines on first use."""
