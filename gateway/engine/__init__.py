"""The embedded engine: the vLLM command line and the process supervisor."""
