"""Every setting of loragate, in one typed place.

Read from ``LORAGATE_*`` environment variables (nested with ``__``, e.g.
``LORAGATE_ENGINE__MAX_LORA_RANK=32``) and from an optional YAML file named by
``LORAGATE_CONFIG``. Environment variables win over the file.

One :class:`Settings` (``root.py``) holds a section per part of the product, each in the
module of its topic.
"""

from gateway.settings.engine import DiscoverySettings, EngineSettings, RoutingSettings
from gateway.settings.finetune import FinetuneSettings
from gateway.settings.observability import ConsoleSettings, MetricsSettings
from gateway.settings.protection import (
    AuthSettings,
    FallbackUpstream,
    ModelLimit,
    ProtectionSettings,
    RateLimitSettings,
)
from gateway.settings.root import DEFAULT_MODEL_NAME, Settings, load_settings

__all__ = [
    "DEFAULT_MODEL_NAME",
    "AuthSettings",
    "ConsoleSettings",
    "DiscoverySettings",
    "EngineSettings",
    "FallbackUpstream",
    "FinetuneSettings",
    "MetricsSettings",
    "ModelLimit",
    "ProtectionSettings",
    "RateLimitSettings",
    "RoutingSettings",
    "Settings",
    "load_settings",
]
