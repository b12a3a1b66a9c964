"""The sleep task: a slow task for failover tests (a worker killed mid-task) and graceful stops."""

from __future__ import annotations

import threading
import time
from typing import Any

from worker.tasks import TaskCancelled, TaskContext
from worker.tasks._validate import float_field

MAX_SECONDS = 3600.0


def run(payload: dict[str, Any], ctx: TaskContext | None = None) -> dict[str, Any]:
    """Sleep ``payload["seconds"]`` (0-3600); stops early with TaskCancelled when ``ctx.cancel`` is set."""
    seconds = float_field(payload, "seconds", 0.0, MAX_SECONDS)
    cancel = ctx.cancel if ctx is not None else threading.Event()
    start = time.monotonic()
    if cancel.wait(seconds):
        raise TaskCancelled(f"sleep cancelled after {time.monotonic() - start:.3f}s")
    return {"slept_s": round(time.monotonic() - start, 3)}
