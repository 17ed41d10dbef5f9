"""Rate limits that protect the engine: requests and tokens per key and per model, and a
cap on requests in flight to the engines with a bounded queue in front of it."""
