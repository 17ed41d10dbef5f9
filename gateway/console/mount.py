"""Serving the built console under ``/ui`` (public files: the pages hold no data; every
datum comes from the API with the key the user signs in with)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.settings import Settings

UI_PATH = "/ui"
STATIC_DIR = Path(__file__).parent / "static"
NOT_BUILT = (
    "<!doctype html><title>loragate console</title><p>The console is not built. Run "
    "<code>scripts/install.sh</code> (it needs Node.js and npm) and restart the gateway.</p>"
)
SECURITY_HEADERS = [
    # Only this origin's scripts, styles and API; the key never leaves for another site.
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; "
     b"style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-cache"),
]  # fmt: skip


class _WithHeaders:
    """Adds the console's security headers to every response of the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_console(app: FastAPI, settings: Settings, static_dir: Path | None = None) -> None:
    """Serve ``static_dir`` (default: the build output) under ``/ui``; a short page saying
    how to build it when it is missing."""
    if not settings.console.enabled:
        return
    static_dir = static_dir or STATIC_DIR
    grafana_url = settings.console.grafana_url

    async def config(_: Request) -> Response:
        return JSONResponse({"grafana_url": grafana_url}, headers={"cache-control": "no-store"})

    async def to_index(_: Request) -> Response:
        return RedirectResponse(f"{UI_PATH}/", status_code=307)

    app.add_route(f"{UI_PATH}/config.json", config, methods=["GET"], include_in_schema=False)
    app.add_route(UI_PATH, to_index, methods=["GET"], include_in_schema=False)
    if (static_dir / "index.html").is_file():
        files = StaticFiles(directory=static_dir, html=True)
        app.mount(UI_PATH, _WithHeaders(files), name="console")
    else:

        async def not_built(_: Request) -> Response:
            return HTMLResponse(NOT_BUILT, status_code=503)

        app.add_route(f"{UI_PATH}/", not_built, methods=["GET"], include_in_schema=False)
