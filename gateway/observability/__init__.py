"""Prometheus metrics of the gateway: what is measured, how, and the ``/metrics`` endpoint.

Several uvicorn workers share one set of numbers through prometheus_client's multiprocess
mode: ``loragate up`` and ``loragate serve`` point ``PROMETHEUS_MULTIPROC_DIR`` at a folder
they empty at start (see :mod:`gateway.observability.multiproc`).
"""
