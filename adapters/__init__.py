"""The adapter registry: adapter records, artifact storage, engine-compatibility checks."""
