from tests.gateway.auth.conftest import client, keys, settings

__all__ = ["client", "keys", "settings"]
