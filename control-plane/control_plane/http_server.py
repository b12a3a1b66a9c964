"""A tiny asyncio HTTP/1.1 server for /health and /metrics.

Health and metrics are two GET routes answered from memory; a framework would add a dependency and a
second event loop integration for nothing. Used by the control plane and the worker alike.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def json(cls, payload: object, status: int = 200) -> Response:
        return cls(status, json.dumps(payload, sort_keys=True).encode())

    @classmethod
    def text(cls, text: str, content_type: str = "text/plain; version=0.0.4; charset=utf-8") -> Response:
        return cls(200, text.encode(), content_type)


Handler = Callable[[], Awaitable[Response]]
_REASONS = {
    200: "OK",
    404: "Not Found",
    405: "Method Not Allowed",
    400: "Bad Request",
    500: "Internal Server Error",
}


async def serve_http(host: str, port: int, routes: dict[str, Handler]) -> asyncio.Server:
    """Start serving `routes` (path -> handler) on host:port; returns the started server."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), 10)
            while True:  # drain headers
                line = await asyncio.wait_for(reader.readline(), 10)
                if line in (b"\r\n", b"\n", b""):
                    break
            parts = request_line.decode("latin-1").split()
            if len(parts) < 2:
                resp = Response.json({"error": "bad request"}, 400)
            elif parts[0] not in ("GET", "HEAD"):
                resp = Response.json({"error": "only GET"}, 405)
            else:
                handler = routes.get(parts[1].split("?", 1)[0])
                if handler is None:
                    resp = Response.json({"error": "not found", "routes": sorted(routes)}, 404)
                else:
                    try:
                        resp = await handler()
                    except Exception as exc:  # a broken probe must not kill the server
                        log.exception("health handler failed")
                        resp = Response.json({"error": str(exc)}, 500)
            head = (
                f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, 'OK')}\r\n"
                f"Content-Type: {resp.content_type}\r\nContent-Length: {len(resp.body)}\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode() + (resp.body if parts and parts[0] != "HEAD" else b""))
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port, reuse_address=True)
