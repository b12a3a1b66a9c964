"""Console under a log flood: sustained lines/s, key latency p50/p99, time to first frame.

Runs the real MCloudApp headless (Textual's test driver, same render path) against a trivial in-process
core, while a feeder thread calls the console's event sink with HostLog lines for the three panels at
--rate lines/s (the sink is what the ops core calls from its threads). Meanwhile it presses keys that
each run an action (follow/pause, a refused up, teardown confirm and help open/close) and times each
press until the screen has been repainted after its action. Prints one JSON line.

    python bench/tui_logs.py [--rate 10000] [--seconds 5] [--max-lines 2000]
Goal: >= 10k lines/s sustained, key p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for sub in ("tui", "control-plane", "worker"):
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))

from mcloud_tui.app import FLUSH_INTERVAL_S, MCloudApp  # noqa: E402
from mcloud_tui.ops.events import HOSTS, DeploymentInfo, HostLog, NodeInfo  # noqa: E402

# Each runs an app action and repaints: pause and follow, a refused up (the flash line says why), the
# teardown confirm opened and cancelled, the help modal opened and closed (modals are the dearest: a new
# screen over the flood).
KEYS = ["f", "f", "u", "t", "escape", "question_mark", "escape"]


class IdleOps:
    """A core with a deployment and nothing else: the flood is the only load."""

    target = "local"

    async def status(self, sink):
        hosts = {
            h: NodeInfo(host=h, ip=f"127.0.{i}.1", instance_type="local-process")
            for i, h in enumerate(HOSTS, 1)
        }
        return DeploymentInfo(
            target="local", deployment_name="bench", hosts=hosts, provisioned_at=time.time()
        )

    async def up(self, sink, *, confirm_cost=None):
        return True

    async def smoke(self, sink):
        return True

    async def down(self, sink):
        return True

    def start_health(self, sink, interval_s=1.0):
        return True

    def stop_health(self):
        pass

    def cancel(self):
        pass

    async def control_plane(self):
        raise RuntimeError("no control plane in the bench")


class Feeder(threading.Thread):
    """Calls sink() from a foreign thread at `rate` lines/s (0 = as fast as it can)."""

    def __init__(self, sink, rate: float, seconds: float) -> None:
        super().__init__(daemon=True)
        self.sink, self.rate, self.seconds = sink, rate, seconds
        self.sent = 0
        self.elapsed = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        text = "TASK [pipeline-node : start control plane] ok: [aws] => changed=false elapsed=0.012s"
        while not self.stop.is_set():
            elapsed = time.monotonic() - start
            if elapsed >= self.seconds:
                break
            due = (int(elapsed * self.rate) if self.rate else self.sent + 500) - self.sent
            for _ in range(due):
                self.sink(HostLog(HOSTS[self.sent % 3], "ansible", f"{self.sent:08d} {text}"))
                self.sent += 1
            time.sleep(0.002)
        self.elapsed = time.monotonic() - start


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def run(rate: float, seconds: float, max_lines: int, size: tuple[int, int], flush_s: float) -> dict:
    app = MCloudApp(
        IdleOps(), max_lines=max_lines, animate=False, log_dir=Path("/tmp"), flush_interval_s=flush_s
    )
    latencies: list[float] = []  # key sent -> its action ran -> the screen was refreshed after it
    handled: list[float] = []  # key sent -> its action ran
    per_key: list[tuple[str, float]] = []
    async with app.run_test(size=size) as pilot:
        await app.wait_for_ops()
        while app.first_frame_at is None:
            await pilot.pause(0.01)
        first_frame_ms = (app.first_frame_at - app.created_at) * 1000
        rss_start = rss_mb()
        feeder = Feeder(app.sink, rate, seconds)
        received_before = sum(p.received for p in app.panels.values())
        feeder.start()
        pressed = 0
        expected = 0
        t_start = time.monotonic()
        i = 0
        while feeder.is_alive():
            key = KEYS[i % len(KEYS)]
            i += 1
            n_before = len(app.action_times)
            t0 = time.perf_counter()
            app.simulate_key(key)  # what the terminal driver posts for a real key press
            pressed += 1
            deadline = t0 + 5.0
            if key == "escape":  # closes the modal: done when the main screen is back and repainted
                while len(app.screen_stack) > 1 and time.perf_counter() < deadline:
                    await asyncio.sleep(0.001)
                done = asyncio.get_running_loop().create_future()
                app.call_after_refresh(lambda d=done: d.done() or d.set_result(time.perf_counter()))
                latencies.append((await done - t0) * 1000)
                per_key.append((key, round(latencies[-1], 1)))
            else:
                expected += 1
                while len(app.painted_times) <= n_before and time.perf_counter() < deadline:
                    await asyncio.sleep(0.001)
                if len(app.painted_times) > n_before:
                    handled.append((app.action_times[n_before] - t0) * 1000)
                    latencies.append((app.painted_times[n_before] - t0) * 1000)
                    per_key.append((key, round(latencies[-1], 1)))
            await asyncio.sleep(0.1)
        await asyncio.to_thread(feeder.join)
        app.drain()
        duration = time.monotonic() - t_start
        received = sum(p.received for p in app.panels.values()) - received_before
        shown_max = max(p.log_view.line_count for p in app.panels.values())
        actions = len(app.actions_run)
        rss_end = rss_mb()
        await pilot.press("escape")
    latencies.sort()
    handled.sort()

    def pct(xs: list[float], q: float) -> float:
        return round(xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))], 1) if xs else float("nan")

    return {
        "bench": "tui_logs",
        "offered_lines_per_s": round(feeder.sent / feeder.elapsed) if feeder.elapsed else 0,
        "sustained_lines_per_s": round(received / feeder.elapsed) if feeder.elapsed else 0,
        "lines_sent": feeder.sent,
        "lines_rendered_into_panels": received,
        "seconds": round(duration, 2),
        "keys_pressed": pressed,
        "key_actions_run": actions,
        "keys_expected_to_run_an_action": expected,
        "key_latency_ms_p50": pct(latencies, 0.5),
        "key_latency_ms_p99": pct(latencies, 0.99),
        "key_latency_ms_max": pct(latencies, 1.0),
        "key_to_action_ms_p50": pct(handled, 0.5),
        "key_to_action_ms_p99": pct(handled, 0.99),
        "time_to_first_frame_ms": round(first_frame_ms, 1),
        "max_lines_per_panel": max_lines,
        "largest_panel_lines": shown_max,
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": round(rss_end, 1),
        "terminal": f"{size[0]}x{size[1]}",
        "flush_ms": flush_s * 1000,
        "cpus": os.cpu_count(),
        # p50 / max per key: f/u repaint a line; t/? open a modal (the first open composes it), escape closes
        "per_key_ms_p50_max": {
            k: [pct(sorted(v for kk, v in per_key if kk == k), 0.5), max(v for kk, v in per_key if kk == k)]
            for k in dict.fromkeys(kk for kk, _ in per_key)
        },
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--rate", type=float, default=10_000, help="offered lines/s over the three panels (0 = max)"
    )
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--max-lines", type=int, default=2000)
    ap.add_argument("--size", default="160x48")
    ap.add_argument(
        "--flush-ms", type=float, default=FLUSH_INTERVAL_S * 1000, help="console's batch interval"
    )
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    result = asyncio.run(run(args.rate, args.seconds, args.max_lines, (w, h), args.flush_ms / 1000))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
