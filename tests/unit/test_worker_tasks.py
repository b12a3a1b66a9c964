"""The task registry and the noop / sleep tasks."""

from __future__ import annotations

import threading
import time

import pytest

from worker.tasks import TaskCancelled, TaskContext, cheap_task_types, get_task, run_task, tasks


def test_registry_names() -> None:
    assert set(tasks()) == {"matrix_multiply", "noop", "sleep"}
    assert cheap_task_types() == ["noop"]
    assert get_task("matrix_multiply").cheap is False


def test_unknown_type_names_it_and_the_known_ones() -> None:
    with pytest.raises(
        ValueError, match=r"unknown task type 'bogus' \(known: matrix_multiply, noop, sleep\)"
    ):
        get_task("bogus")


def test_noop_echoes() -> None:
    assert run_task("noop", {}) == {"ok": True}
    assert run_task("noop", {"echo": [1, "a"]}) == {"ok": True, "echo": [1, "a"]}


def test_sleep_sleeps() -> None:
    out = run_task("sleep", {"seconds": 0.05})
    assert out["slept_s"] >= 0.05


@pytest.mark.parametrize(
    "payload", [{}, {"seconds": -1}, {"seconds": "x"}, {"seconds": 1e9}, {"seconds": True}]
)
def test_sleep_bad_payload_names_the_field(payload: dict) -> None:
    with pytest.raises(ValueError, match="payload field 'seconds'"):
        run_task("sleep", payload)


def test_sleep_stops_when_cancelled() -> None:
    ctx = TaskContext()
    threading.Timer(0.05, ctx.cancel.set).start()
    t0 = time.monotonic()
    with pytest.raises(TaskCancelled):
        run_task("sleep", {"seconds": 30}, ctx)
    assert time.monotonic() - t0 < 5
