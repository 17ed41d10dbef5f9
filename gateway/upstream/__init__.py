"""Talking to the engines: the HTTP client pool, health probes and the choice of upstream."""
