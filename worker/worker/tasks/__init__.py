"""The task registry: every task type a worker can run, by name.

A task is a module with ``run(payload: dict, ctx: TaskContext | None = None) -> dict``. The registry records
whether a task is *cheap* (runs inline on the event loop, leased in batches) or *heavy* (runs in a thread so
lease renewals keep flowing, leased one at a time so a worker never hoards slow work).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class TaskCancelled(Exception):
    """Raised by a task that noticed ``ctx.cancel`` was set (lease lost or worker stopping)."""


class ArtifactStore(Protocol):
    """The part of :class:`worker.storage.Storage` a task may use (kept abstract so tasks stay testable)."""

    def put_job_artifact(self, job_id: str, name: str, data: bytes, content_type: str = ...) -> str: ...


@dataclass
class TaskContext:
    """What the runtime hands a task besides its payload.

    ``device`` forces "cpu" or "cuda" (None = auto); ``cancel`` is set when the lease is lost or the worker
    gives the task up, so long tasks can stop early.
    """

    job_id: str = "local"
    storage: ArtifactStore | None = None
    device: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)


TaskFn = Callable[[dict[str, Any], TaskContext | None], dict[str, Any]]


@dataclass(frozen=True)
class TaskSpec:
    """One registered task type."""

    name: str
    run: TaskFn
    cheap: bool  # True: microseconds of work, run inline and lease in batches


def _registry() -> dict[str, TaskSpec]:
    # Imported lazily so `import worker.tasks` does not pay for torch until a matmul is asked for.
    from worker.tasks import matrix_multiply, noop, sleep

    return {
        "matrix_multiply": TaskSpec("matrix_multiply", matrix_multiply.run, cheap=False),
        "noop": TaskSpec("noop", noop.run, cheap=True),
        "sleep": TaskSpec("sleep", sleep.run, cheap=False),
    }


_TASKS: dict[str, TaskSpec] | None = None


def tasks() -> dict[str, TaskSpec]:
    """Every registered task type, by name."""
    global _TASKS
    if _TASKS is None:
        _TASKS = _registry()
    return _TASKS


def get_task(name: str) -> TaskSpec:
    """The task called ``name``; a ValueError naming it (and the known ones) when there is none."""
    spec = tasks().get(name)
    if spec is None:
        known = ", ".join(sorted(tasks()))
        raise ValueError(f"unknown task type {name!r} (known: {known})")
    return spec


def cheap_task_types() -> list[str]:
    """Names of the tasks the worker may lease in batches."""
    return sorted(n for n, s in tasks().items() if s.cheap)


def run_task(name: str, payload: Any, ctx: TaskContext | None = None) -> dict[str, Any]:
    """Validate the payload's shape and run the task ``name`` (synchronously, in the caller's thread)."""
    spec = get_task(name)
    if not isinstance(payload, dict):
        raise ValueError(f"payload must be a JSON object, got {type(payload).__name__}")
    return spec.run(payload, ctx)
