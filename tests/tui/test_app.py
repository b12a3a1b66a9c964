"""Console behaviour against the fake core: keys, refusals with reasons, modals, meter, budget, logs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from textual.widgets import Input, Static
from tui_fakes import NOW, T0, FakeOps, fixed_clock, snapshot_ops

from mcloud_tui.app import MCloudApp
from mcloud_tui.ops.localwan import WanStatus
from mcloud_tui.ops.pricing import load_table


def make_app(ops: FakeOps, **kw) -> MCloudApp:
    kw.setdefault("clock", fixed_clock)
    return MCloudApp(ops, health_interval_s=3600, animate=False, **kw)


async def until(pilot, cond: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll with a deadline (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        pilot.app.drain()
        await pilot.pause(0.02)


def status_text(app: MCloudApp, host: str) -> str:
    return str(app.query_one(f"#status-{host}", Static).render())


async def test_up_matmul_smoke_teardown_flow() -> None:
    ops = FakeOps()
    app = make_app(ops)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.wait_for_ops()
        await pilot.press("u")
        await app.wait_for_ops()
        await until(pilot, lambda: all(p.log_view.line_count > 0 for p in app.panels.values()), what="lines")
        assert app.header_state.leader == "aws"
        assert "AWS ★ leader" in str(app.panels["aws"].border_title)
        assert app.meter.running and app.header_state.rate == 0.0  # local: free

        await pilot.press("m")
        assert app.screen.id == "matmul-modal"
        await pilot.press("enter")
        await until(
            pilot, lambda: any(r.state == "done" for r in app.jobs_table.rows_by_id.values()), what="job"
        )
        row = next(iter(app.jobs_table.rows_by_id.values()))
        assert (row.state, row.device, row.tflops) == ("done", "cpu", "0.021")

        await pilot.press("s")
        await app.wait_for_ops()
        assert len(app.smoke_results) == 10 and all(s.ok for s in app.smoke_results)
        assert any("PASS matmul" in line for line in app.ops_log.lines)

        await pilot.press("t")
        assert app.screen.id == "teardown-modal"
        await pilot.click("#confirm")
        await app.wait_for_ops()
        await until(pilot, lambda: not app.meter.running, what="meter stop")
        assert ops.calls[-1] == "down" and "stop_health" in ops.calls
        assert app.deployment is None and app.header_state.phase == "torn down"
        assert app.notices == []


@pytest.mark.parametrize(
    ("key", "reason"),
    [("m", "nothing is deployed: press u first"), ("s", "nothing is deployed: press u first"),
     ("t", "nothing to tear down"), ("x", "nothing is deployed: press u first")],
)  # fmt: skip
async def test_keys_that_make_no_sense_say_why(key: str, reason: str) -> None:
    app = make_app(FakeOps())
    async with app.run_test(size=(120, 36)) as pilot:
        await app.wait_for_ops()
        await pilot.press(key)
        assert any(reason in n for n in app.notices), app.notices
        assert app.screen is app.screen_stack[0]  # no modal opened


async def test_up_when_already_up_says_why() -> None:
    ops = FakeOps(deployed=True)
    app = make_app(ops)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.wait_for_ops()
        await until(pilot, lambda: app.deployment is not None)
        await pilot.press("u")
        assert any("already up" in n for n in app.notices)
        assert "up" not in ops.calls


async def test_reopening_finds_the_deployment_and_continues_the_meter() -> None:
    ops = snapshot_ops("cloud")  # provisioned at T0, the clock says T0 + 1.5 h
    app = make_app(ops)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.wait_for_ops()
        await until(pilot, lambda: app.meter.running, what="meter")
        rate = load_table().rate_for(gpu=False, spot=True).total
        assert app.meter.provisioned_at == T0
        assert app.meter.accrued(NOW) == pytest.approx(rate * 1.5)
        assert app.header_state.rate == pytest.approx(rate)
        assert app.panels["gcp"].node is not None and app.panels["gcp"].node.instance_type == "e2-standard-2"


async def test_cloud_up_asks_with_the_cost_preview_and_cancel_creates_nothing() -> None:
    ops = FakeOps(target="cloud")
    app = make_app(ops)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.wait_for_ops()
        await pilot.press("u")
        await until(pilot, lambda: app.screen.id == "cost-modal", what="cost modal")
        await pilot.press("escape")
        await app.wait_for_ops()
        assert ops.cost_answer is False and app.deployment is None and not app.meter.running

        await pilot.press("u")
        await until(pilot, lambda: app.screen.id == "cost-modal", what="cost modal")
        await pilot.click("#confirm")
        await app.wait_for_ops()
        await until(pilot, lambda: app.meter.running, what="meter")
        assert ops.cost_answer is True and app.meter.rate_per_hour > 0


async def test_quit_warns_while_billed() -> None:
    app = make_app(snapshot_ops("cloud"))
    async with app.run_test(size=(120, 36)) as pilot:
        await app.wait_for_ops()
        await until(pilot, lambda: app.meter.running)
        await pilot.press("ctrl+q")
        assert app.screen.id == "quit-modal"
        await pilot.press("escape")
        assert app.is_running and app.screen.id != "quit-modal"
        await pilot.press("ctrl+q")
        await pilot.click("#confirm")
        await until(pilot, lambda: not app.is_running, what="exit")


async def test_quit_on_the_free_local_target_does_not_ask() -> None:
    app = make_app(snapshot_ops("local"))
    async with app.run_test(size=(120, 36)) as pilot:
        await app.wait_for_ops()
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running, what="exit")


async def test_budget_warns_then_auto_tears_down() -> None:
    clock = {"now": T0 + 60}
    ops = snapshot_ops("cloud")
    rate = load_table().rate_for(gpu=False, spot=True).total
    app = make_app(ops, clock=lambda: clock["now"], budget=rate, auto_teardown=True)  # budget = 1 h
    async with app.run_test(size=(120, 36)) as pilot:
        await app.wait_for_ops()
        await until(pilot, lambda: app.meter.running)
        app.tick()
        assert app.notices == []
        clock["now"] = T0 + 0.85 * 3600
        app.tick()
        assert any("80%" in n for n in app.notices)
        assert "down" not in ops.calls
        clock["now"] = T0 + 3600
        app.tick()
        await until(pilot, lambda: "down" in ops.calls, what="auto teardown")
        await app.wait_for_ops()
        await until(pilot, lambda: not app.meter.running)
        assert any("tearing down" in n for n in app.notices)


async def test_filter_follow_and_save(tmp_path) -> None:
    app = make_app(snapshot_ops(), log_dir=tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.wait_for_ops()
        panel = app.panels["aws"]
        await until(pilot, lambda: panel.log_view.line_count == 13, what="replayed lines")
        assert status_text(app, "aws").startswith("FOLLOW")

        await pilot.press("slash")
        flt = app.query_one("#filter-aws", Input)
        assert flt.display and flt.has_focus
        await pilot.press(*"render", "enter")
        assert panel.log_view.line_count == 3  # "render .env" appears 3 times in 12 task lines
        assert "/render" in status_text(app, "aws")
        await pilot.press("escape")  # back to everything
        assert panel.log_view.line_count == 13

        await pilot.press("f")
        assert status_text(app, "aws").startswith("PAUSED")
        await pilot.press("f")
        assert status_text(app, "aws").startswith("FOLLOW")

        await pilot.press("w")
        saved = list(tmp_path.glob("aws-*.log"))
        assert len(saved) == 1
        assert saved[0].read_text().count("\n") == 13
        assert any("log saved to" in n for n in app.notices)

        await pilot.click("#log-gcp")  # keys act on the focused panel
        assert app.active_host == "gcp"
        await pilot.press("w")
        assert len(list(tmp_path.glob("gcp-*.log"))) == 1


async def test_matmul_form_rejects_a_bad_size_and_says_so() -> None:
    ops = snapshot_ops()
    app = make_app(ops)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.wait_for_ops()
        await until(pilot, lambda: app.deployment is not None)
        await pilot.press("m")
        size = app.screen.query_one("#matmul-size", Input)
        size.value = "0"
        await pilot.press("enter")
        assert app.screen.id == "matmul-modal"
        assert "size must be 1..16384" in str(app.screen.query_one("#matmul-error", Static).render())
        await pilot.press("escape")
        assert app.screen.id != "matmul-modal"


async def test_help_and_teardown_button() -> None:
    ops = snapshot_ops()
    app = make_app(ops)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.wait_for_ops()
        await until(pilot, lambda: app.deployment is not None)
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpModal"
        app.tick()  # the once-a-second refresh must not look for the header on the modal screen
        await pilot.press("escape")
        await pilot.click("#teardown-button")
        assert app.screen.id == "teardown-modal"
        assert app.screen.query_one("#cancel").has_focus  # the safe answer is the default
        await pilot.press("escape")
        assert "down" not in ops.calls and any("teardown cancelled" in x for x in app.ops_log.lines)
        await pilot.press("t")  # the reused modal asks again, cancel focused again
        assert app.screen.id == "teardown-modal" and app.screen.query_one("#cancel").has_focus
        await pilot.press("enter")  # enter on the focused Cancel button: still nothing torn down
        assert app.screen.id != "teardown-modal" and "down" not in ops.calls


async def test_a_second_u_while_up_runs_says_why_and_starts_nothing() -> None:
    ops = FakeOps(hold_up=asyncio.Event())
    app = make_app(ops)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.wait_for_ops()
        await pilot.press("u", "u")
        assert ops.calls.count("up") == 1
        assert any("up is running; wait for it to finish" in n for n in app.notices)
        await pilot.press("s")
        assert any("smoke: up is running" in n for n in app.notices)
        ops.hold_up.set()
        await app.wait_for_ops()
        assert app.busy is None and app.deployment is not None


async def test_teardown_during_up_cancels_it_then_destroys() -> None:
    ops = FakeOps(hold_up=asyncio.Event())
    app = make_app(ops)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.wait_for_ops()
        await pilot.press("u")
        await until(pilot, lambda: app.deployment is not None, what="provisioned")
        assert app.busy == "up"
        await pilot.press("t")
        assert app.screen.id == "teardown-modal"
        await pilot.click("#confirm")
        await app.wait_for_ops()
        assert ops.calls.index("cancel") < ops.calls.index("down")
        await until(pilot, lambda: app.busy is None and not app.meter.running, what="torn down")
        assert app.header_state.phase == "torn down" and app.deployment is None


async def test_header_shows_the_wan_state_and_a_cut_cloud() -> None:
    from mcloud_tui.ops.localwan import WanStatus

    ops = snapshot_ops()
    app = make_app(ops)

    def header() -> str:
        return str(app.query_one("#header-text", Static).render())

    async with app.run_test(size=(160, 48)) as pilot:
        await app.wait_for_ops()
        app.tick()
        await pilot.pause()
        assert "wan 10/30/35ms" in header() and "CUT" not in header()
        ops.wan = WanStatus(enabled=True, running=True, rtt_ms=ops.wan.rtt_ms, partitioned=("gcp",))
        app.tick()
        await pilot.pause()
        assert "wan 10/30/35ms gcp CUT" in header()
        ops.wan = WanStatus(enabled=False)
        app.tick()
        await pilot.pause()
        assert "wan off" in header()
        ops.wan = WanStatus(enabled=True, rtt_ms=ops.wan.rtt_ms)  # emulator died
        app.tick()
        await pilot.pause()
        assert "wan DOWN" in header()


async def test_x_cuts_a_cloud_off_and_heals_it_through_the_core() -> None:
    ops = snapshot_ops()
    app = make_app(ops)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.wait_for_ops()
        await until(pilot, lambda: app.deployment is not None and app.header_state.wan is not None)
        await pilot.press("x")
        assert app.screen.id == "wan-modal"
        await pilot.click("#cut-gcp")
        await until(pilot, lambda: "partition gcp" in ops.calls, what="partition call")
        await until(
            pilot, lambda: any("wan: cut gcp off; partitioned now: gcp" in x for x in app.ops_log.lines)
        )
        await until(pilot, lambda: app.header_state.wan.partitioned == ("gcp",), what="header")
        await pilot.press("x")
        await pilot.click("#heal-gcp")  # the cut cloud's button now heals it
        await until(pilot, lambda: "heal gcp" in ops.calls, what="heal call")
        await until(pilot, lambda: app.header_state.wan.partitioned == (), what="header healed")


async def test_x_says_why_without_the_wan_emulator() -> None:
    ops = snapshot_ops()
    ops.wan = WanStatus(enabled=False)
    app = make_app(ops)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.wait_for_ops()
        await until(pilot, lambda: app.deployment is not None and app.header_state.wan is not None)
        await pilot.press("x")
        assert any("without the WAN emulator" in n for n in app.notices), app.notices
        assert app.screen is app.screen_stack[0]
