"""Snapshots of the console with fixed fake data: main screen at 80x24 and 160x48, and the two modals.

Create/refresh with `pytest tests/tui/test_snapshots.py --snapshot-update` and review the SVGs.
"""

from __future__ import annotations

from tui_fakes import FakeOps, fixed_clock, snapshot_ops

from mcloud_tui.app import MCloudApp


def _app(ops: FakeOps, **kw) -> MCloudApp:
    return MCloudApp(ops, clock=fixed_clock, health_interval_s=3600, animate=False, **kw)


async def _settle(pilot) -> None:
    app: MCloudApp = pilot.app
    await app.wait_for_ops()
    await pilot.pause()
    app.drain()
    app.tick()
    await pilot.pause()


def test_main_screen_80x24(snap_compare) -> None:
    assert snap_compare(_app(snapshot_ops()), terminal_size=(80, 24), run_before=_settle)


def test_main_screen_160x48(snap_compare) -> None:
    assert snap_compare(_app(snapshot_ops()), terminal_size=(160, 48), run_before=_settle)


def test_main_screen_cloud_with_budget_160x48(snap_compare) -> None:
    app = _app(snapshot_ops("cloud"), budget=1.0, auto_teardown=False)
    assert snap_compare(app, terminal_size=(160, 48), run_before=_settle)


def test_teardown_modal(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await _settle(pilot)
        await pilot.press("t")
        await pilot.pause()

    assert snap_compare(_app(snapshot_ops()), terminal_size=(100, 30), run_before=run_before)


def test_cost_preview_modal(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await _settle(pilot)
        await pilot.press("u")
        for _ in range(50):  # the core awaits the modal's answer; poll until it is on screen
            if pilot.app.screen.id == "cost-modal":
                break
            await pilot.pause(0.02)
        await pilot.pause()

    ops = FakeOps(target="cloud", deployed=False)
    assert snap_compare(_app(ops), terminal_size=(100, 30), run_before=run_before)
