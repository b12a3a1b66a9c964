"""The no-op task: does nothing, so benchmarks measure the queue and not the work."""

from __future__ import annotations

from typing import Any


def run(payload: dict[str, Any], ctx: Any = None) -> dict[str, Any]:
    """Return ``{"ok": true}`` plus ``echo`` when the payload has one."""
    out: dict[str, Any] = {"ok": True}
    if "echo" in payload:
        out["echo"] = payload["echo"]
    return out
