"""An HTTP server on 127.0.0.1 for the fleet's unit tests: a subclass adds its routes."""

from __future__ import annotations

from aiohttp import web

from tests.helpers import free_port


class StubServer:
    """Listens from :meth:`start` (not before) until :meth:`stop`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        app = web.Application()
        self.add_routes(app)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Stop listening; nothing to do if it never started."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
