"""`make faults-soak`: N random fault cycles on one rig with the WAN emulator on; prints invariant counts.

    python tests/faults/soak.py [--cycles 100] [--seed S]

Each cycle picks a scenario at random (tests/faults/_scenarios.py), runs it under load and checks every
invariant over that cycle's history. The last line is one JSON object with the totals; the exit status is
1 when any invariant was violated or a scenario's own promise failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _rig import Rig, free_wan_hosts  # noqa: E402
from _scenarios import SCENARIOS  # noqa: E402


async def soak(cycles: int, seed: int, base: Path) -> dict:
    random.seed(seed)
    rig = Rig(base, free_wan_hosts())
    totals: Counter[str] = Counter()
    runs: Counter[str] = Counter()
    failures: list[str] = []
    t_start = time.monotonic()
    try:
        await asyncio.to_thread(rig.start)
        for n in range(1, cycles + 1):
            name = random.choice(list(SCENARIOS))
            runs[name] += 1
            since = time.monotonic()
            rig.acked.clear()
            try:
                figures = await asyncio.wait_for(SCENARIOS[name](rig), 120)
                inv = await asyncio.wait_for(rig.check(since), 120)
            except Exception as exc:  # a broken promise counts, and the soak goes on from full strength
                failures.append(f"cycle {n} {name}: {type(exc).__name__}: {exc}")
                print(json.dumps({"cycle": n, "scenario": name, "error": str(exc)[:300]}), flush=True)
                await asyncio.to_thread(rig.restore)
                continue
            d = inv.as_dict()
            for key, value in d.items():
                if isinstance(value, bool):
                    totals[key] += int(value)
                elif isinstance(value, int):
                    totals[key] += value
            print(json.dumps({"cycle": n, "scenario": name, **figures, **d}), flush=True)
    finally:
        await asyncio.to_thread(rig.close)
    return {
        "soak": "faults",
        "cycles": cycles,
        "seed": seed,
        "wall_s": round(time.monotonic() - t_start, 1),
        "scenarios": dict(runs),
        "scenario_failures": len(failures),
        "failures": failures,
        "acknowledged_jobs": totals["acknowledged"],
        "lost": totals["lost"],
        "not_terminal": totals["not_terminal"],
        "multi_accepted": totals["multi_accepted"],
        "accepted_checked_cycles": totals["accepted_checked"],
        "terms_with_two_leaders": totals["terms_with_two_leaders"],
        "commit_regressions": totals["commit_regressions"],
        "committed_missing": totals["committed_missing"],
        "replica_divergence": totals["replica_divergence"],
        "stale_completions_ignored": totals["stale_completions"],
        "health_samples": totals["samples"],
        "violations": totals["violations"],
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mcloud-soak-") as tmp:
        result = asyncio.run(soak(args.cycles, args.seed, Path(tmp)))
    print(json.dumps(result))
    return 1 if result["violations"] or result["scenario_failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
