"""The upstream side: engines, their health and breakers, fallbacks, adapter loading, the
choice of engine, and forwarding.

The HTTP features (``gateway.openai``, ``gateway.protection``, ``gateway.admin``) call into
this package; it imports only settings, errors and ``adapters``, never a feature. The
degradation mode reaches it as arguments, and metrics through hooks it is given.
"""
