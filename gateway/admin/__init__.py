"""Admin-only HTTP APIs: API keys and adapter loading (every route needs an admin key)."""
