"""Protecting the engines: the degradation switch, circuit breakers and fallback upstreams."""
