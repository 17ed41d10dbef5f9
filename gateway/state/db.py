"""Connecting to the gateway's shared state: the job store's database, its own tables."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from trainer.jobs.db import connect


class StateDatabase:
    """An engine on the product database (schema migrated); one session per call."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = connect(url)
        self.session: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()
