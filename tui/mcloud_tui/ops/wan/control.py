"""The emulator's control channel: a tiny local HTTP endpoint, and the client the ops core and tests use.

    GET  /state              matrix, partitioned clouds, every link with its counters (JSON)
    POST /partition/<cloud>  cut a cloud off (both directions)
    POST /heal/<cloud>       reconnect one cloud;  POST /heal  every cloud
    POST /matrix             body {"aws-gcp": 40, ...} (RTT ms; optional "jitter_ms")

Every change is also written to the state file (when one is given), so a console can show the emulator
without polling HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .emulator import Emulator
from .topology import LatencyMatrix, WanConfigError

log = logging.getLogger("mcloud.wan")


class WanError(Exception):
    """The emulator could not be reached or refused a request; the message says which and why."""


def write_state(emu: Emulator, path: Path | None) -> None:
    """Atomically replace the state file (readers never see half a document)."""
    if path is None:
        return
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(emu.state()))
    os.replace(tmp, path)


async def serve_control(emu: Emulator, host: str, port: int) -> asyncio.Server:
    """Serve the control endpoint (loopback only by intent: it can cut the deployment's network)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        status, body = 500, {"error": "internal"}
        try:
            line = (await asyncio.wait_for(reader.readline(), 5)).decode("latin-1").split()
            length = 0
            while True:
                header = await asyncio.wait_for(reader.readline(), 5)
                if header in (b"\r\n", b"\n", b""):
                    break
                name, _, value = header.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip() or 0)
            payload = await reader.readexactly(length) if length else b""
            status, body = await _route(emu, line, payload)
        except (ValueError, WanConfigError) as exc:
            status, body = 400, {"error": str(exc)}
        except Exception as exc:  # the emulator keeps serving whatever one request did
            log.exception("wan control request failed")
            status, body = 500, {"error": str(exc)}
        data = json.dumps(body).encode()
        with contextlib.suppress(Exception):
            writer.write(
                f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                + data
            )
            await writer.drain()
            writer.close()

    return await asyncio.start_server(handle, host, port, reuse_address=True)


async def _route(emu: Emulator, line: list[str], payload: bytes) -> tuple[int, dict[str, Any]]:
    if len(line) < 2:
        return 400, {"error": "bad request line"}
    method, path = line[0], line[1].split("?", 1)[0].rstrip("/")
    parts = [p for p in path.split("/") if p]
    if method == "GET" and parts in (["state"], []):
        return 200, emu.state()
    if method != "POST":
        return 405, {"error": f"{method} {path}: use GET /state or POST /partition|/heal|/matrix"}
    if len(parts) == 2 and parts[0] == "partition":
        await emu.partition(parts[1])
    elif parts and parts[0] == "heal" and len(parts) <= 2:
        await emu.heal(parts[1] if len(parts) == 2 else None)
    elif parts == ["matrix"]:
        doc = json.loads(payload or b"{}")
        if not isinstance(doc, dict):
            raise ValueError('POST /matrix: body must be a JSON object like {"aws-gcp": 40}')
        jitter = float(doc.pop("jitter_ms", emu.matrix.jitter_ms))
        if not 0 <= jitter <= 1000:
            raise ValueError(f"jitter_ms: must be 0-1000, got {jitter}")
        new = emu.matrix.with_rtt(doc)
        emu.set_matrix(LatencyMatrix(new.rtt_ms, jitter))
    else:
        return 404, {"error": f"no route {method} {path}"}
    return 200, emu.state()


class WanControl:
    """Client of a running emulator (blocking; call it from a thread in async code)."""

    def __init__(self, address: str, timeout: float = 3.0) -> None:
        self.address = address
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        req = urllib.request.Request(f"http://{self.address}{path}", data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                msg = json.loads(exc.read()).get("error", str(exc))
            except ValueError:
                msg = str(exc)
            raise WanError(f"WAN emulator at {self.address}: {msg}") from None
        except (OSError, ValueError) as exc:
            raise WanError(f"WAN emulator at {self.address} not reachable: {exc}") from None

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/state")

    def partition(self, cloud: str) -> dict[str, Any]:
        return self._call("POST", f"/partition/{cloud}")

    def heal(self, cloud: str | None = None) -> dict[str, Any]:
        return self._call("POST", f"/heal/{cloud}" if cloud else "/heal")

    def set_rtt(self, rtt_ms: dict[str, float], jitter_ms: float | None = None) -> dict[str, Any]:
        body: dict[str, Any] = dict(rtt_ms)
        if jitter_ms is not None:
            body["jitter_ms"] = jitter_ms
        return self._call("POST", "/matrix", body)


def read_state_file(path: Path) -> dict[str, Any] | None:
    """The last state the emulator wrote, or None when it is not running / never ran."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def summary(state: dict[str, Any] | None) -> str:
    """One line for a console header: 'WAN on: aws-gcp 30 ms, ... | cut: gcp' or 'WAN off'."""
    if not state or not state.get("enabled"):
        return "WAN off"
    rtts = ", ".join(f"{k} {v:g}" for k, v in state.get("rtt_ms", {}).items())
    cut = state.get("partitioned") or []
    return f"WAN on: RTT ms {rtts}" + (f" | partitioned: {', '.join(cut)}" if cut else "")
