"""The gateway's own shared state (API keys, the degradation switch), kept in the product's
database beside the job store, so every worker and replica reads the same."""
