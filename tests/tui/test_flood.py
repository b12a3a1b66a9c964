"""Flood the three panels (10,000 lines/s for a few seconds) while keys are pressed.

Every key must run its action, and memory must stay bounded: each panel keeps at most max_lines, and the
traced heap does not grow with the number of lines sent.
"""

from __future__ import annotations

import threading
import time
import tracemalloc

from tui_fakes import fixed_clock, snapshot_ops

from mcloud_tui.app import MCloudApp
from mcloud_tui.ops.events import HOSTS, HostLog

RATE = 10_000  # lines/s over the three panels
SECONDS = 3.0
MAX_LINES = 1000
# pause + follow, refused up (already up), teardown confirm opened + cancelled, help opened + closed
KEYS = ["f", "f", "u", "t", "escape", "question_mark", "escape"]
ACTIONS = ["follow", "follow", "up", "teardown", "help"]


class Feeder(threading.Thread):
    """Calls the console's sink from a foreign thread, as the ops core does."""

    def __init__(self, sink, rate: int, seconds: float) -> None:
        super().__init__(daemon=True)
        self.sink, self.rate, self.seconds = sink, rate, seconds
        self.sent = 0

    def run(self) -> None:
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < self.seconds:
            for _ in range(int(elapsed * self.rate) - self.sent):
                self.sink(HostLog(HOSTS[self.sent % 3], "ansible", f"{self.sent:08d} TASK [start worker] ok"))
                self.sent += 1
            time.sleep(0.002)


async def test_flood_keys_are_handled_and_memory_stays_bounded() -> None:
    app = MCloudApp(
        snapshot_ops(), clock=fixed_clock, max_lines=MAX_LINES, health_interval_s=3600, animate=False
    )
    async with app.run_test(size=(160, 48)) as pilot:
        await app.wait_for_ops()
        await pilot.pause()
        tracemalloc.start()
        try:
            feeder = Feeder(app.sink, RATE, SECONDS)
            feeder.start()
            rounds = 0
            baseline = None
            while feeder.is_alive():
                for key in KEYS:
                    await pilot.press(key)
                rounds += 1
                if baseline is None:  # after one round: panels full, caches warm
                    baseline = tracemalloc.get_traced_memory()[0]
            feeder.join()
            app.drain()
            grown = tracemalloc.get_traced_memory()[0] - (baseline or 0)
        finally:
            tracemalloc.stop()

        assert feeder.sent >= RATE * SECONDS * 0.9
        # every key ran its action, in order (escape closes the modals: the screen stack is back to one)
        assert app.actions_run == ACTIONS * rounds
        assert len(app.screen_stack) == 1
        for panel in app.panels.values():
            assert panel.log_view.line_count <= MAX_LINES
            assert len(panel.lines) <= MAX_LINES and len(panel.pending) <= MAX_LINES
            assert panel.received > feeder.sent / 3 * 0.5  # the flood did reach the panels
        # bounded: the heap does not scale with the ~30k lines sent (each line object is ~150 B)
        assert grown < 8 * 1024 * 1024, f"heap grew {grown / 1e6:.1f} MB"
