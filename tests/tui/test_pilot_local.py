"""Issue 6, must-show 1: the console drives the REAL local target end to end through the real ops core.

u -> three panels stream lines and the header shows the leader -> m -> the job row reaches done on the
CPU -> s -> every smoke line passes -> t + confirm -> nothing is left (no processes, no ports) and the
meter stops. Private MCLOUD_STATE_DIR and loopback addresses, so a developer's local target is untouched.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mcloud_tui.app import MCloudApp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from _local_target import LocalTarget, free_hosts  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture
def local_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalTarget]:
    target = LocalTarget(tmp_path / "state", free_hosts(3))
    for key, value in target.env().items():  # the engine runs in this process: same env as headless
        if key in ("MCLOUD_STATE_DIR", "MCLOUD_LOCAL_HOSTS", "PYTHONPATH"):
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("MCLOUD_DEPLOYMENT", raising=False)
    try:
        yield target
    finally:
        target.cleanup()  # headless down + sweep: never leak processes, even when the test failed


async def until(pilot, cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            app: MCloudApp = pilot.app
            tail = "\n".join(list(app.ops_log.lines)[-25:])
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; ops log tail:\n{tail}")
        await pilot.pause(0.1)


async def test_console_on_the_real_local_target(local_target: LocalTarget, tmp_path: Path) -> None:
    from mcloud_tui.ops.engine import engine_from_env

    app = MCloudApp(engine_from_env("local"), log_dir=tmp_path / "logs", animate=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.wait_for_ops()
        assert app.deployment is None

        await pilot.press("u")
        await until(pilot, lambda: app.busy is None, 150, "up to finish")
        assert app.header_state.phase_ok is not False, "up failed"
        await until(
            pilot, lambda: all(p.log_view.line_count > 0 for p in app.panels.values()), 10, "panel lines"
        )
        for panel in app.panels.values():
            text = "\n".join(panel.lines)
            assert "tf " in text and "an " in text, f"{panel.host}: no terraform/ansible lines"
        await until(pilot, lambda: app.header_state.leader != "", 30, "a leader in the header")
        assert app.meter.running and app.header_state.rate == 0.0

        await pilot.press("m")
        await until(pilot, lambda: app.screen.id == "matmul-modal", 5, "matmul form")
        await pilot.press("enter")

        def done_on_cpu() -> bool:
            return any(r.state == "done" and r.device == "cpu" for r in app.jobs_table.rows_by_id.values())

        await until(pilot, done_on_cpu, 90, "the matmul row to reach done on the cpu")

        await pilot.press("s")
        await until(pilot, lambda: app.busy is None, 120, "smoke to finish")
        assert app.smoke_results, "no smoke lines"
        failed = [s for s in app.smoke_results if not s.ok]
        assert not failed, failed
        for cloud in ("aws", "gcp", "azure"):
            assert any(s.host == cloud for s in app.smoke_results), cloud

        await pilot.press("t")
        await until(pilot, lambda: app.screen.id == "teardown-modal", 5, "teardown confirm")
        await pilot.click("#confirm")
        await until(
            pilot, lambda: app.busy is None and app.header_state.phase == "torn down", 120, "teardown"
        )
        assert not app.meter.running
        frozen = app.meter.accrued(time.time())
        assert app.meter.accrued(time.time() + 3600) == frozen  # the meter stopped

    assert local_target.leftover_processes() == []
    assert local_target.listening() == []
    assert not (local_target.state_dir / "local" / "deployment.json").exists()
