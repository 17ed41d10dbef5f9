"""The web console: a TypeScript front end (``ui-src``) built into ``static`` and served
by the gateway under ``/ui``. It is a client of the public API like any SDK."""
