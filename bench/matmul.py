"""Benchmark: the matrix_multiply task's TFLOP/s next to a raw ``torch.mm`` loop, same size, same process.

Goal: the task reaches >= 95 % of raw at every size (its overhead is payload checks, the memory check and
the norm, all outside the timed region). Prints one line per size to stderr and one JSON line to stdout:
``{"bench": "matmul", "device": ..., "dtype": ..., "results": [{"size", "task_tflops", "raw_tflops",
"ratio"}], "min_ratio": ..., "goal": 0.95, "ok": ...}``.

    python bench/matmul.py [--sizes 512,1024,2048,4096] [--dtype float32] [--min-time 0.5] [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "worker"))

import torch  # noqa: E402

from worker.tasks.matrix_multiply import pick_device, run  # noqa: E402


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def raw_tflops(size: int, dtype: str, device: str, iters: int) -> float:
    """TFLOP/s of a plain ``c = torch.mm(a, b)`` loop, synchronised before and after."""
    t = getattr(torch, dtype)
    a = torch.randn(size, size, device=device, dtype=t)
    b = torch.randn(size, size, device=device, dtype=t)
    torch.mm(a, b)
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(iters):
        c = torch.mm(a, b)
    _sync(device)
    dt = time.perf_counter() - t0
    del c
    return 2.0 * size**3 * iters / dt / 1e12


def calibrate(size: int, dtype: str, device: str, min_time: float) -> int:
    """How many products take about ``min_time`` seconds (at least 1)."""
    per = 2.0 * size**3 / (raw_tflops(size, dtype, device, 1) * 1e12)
    return max(2, min(1000, int(min_time / max(per, 1e-6))))


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print the JSON line; exit 0 even below goal (a benchmark, not a test)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="512,1024,2048,4096")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds of work per measurement")
    ap.add_argument("--rounds", type=int, default=7, help="best of N for both, interleaved")
    args = ap.parse_args(argv)
    device = pick_device()
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        iters = calibrate(size, args.dtype, device, args.min_time)
        task_best = raw_best = 0.0
        for _ in range(args.rounds):  # interleaved so clock / thermal drift hits both alike
            out = run({"size": size, "dtype": args.dtype, "repeat": iters})
            task_best = max(task_best, out["tflops"])
            raw_best = max(raw_best, raw_tflops(size, args.dtype, device, iters))
        ratio = task_best / raw_best if raw_best else 0.0
        results.append(
            {
                "size": size,
                "repeat": iters,
                "task_tflops": round(task_best, 4),
                "raw_tflops": round(raw_best, 4),
                "ratio": round(ratio, 3),
            }
        )
        print(
            f"size {size:5d} x{iters:<4d} task {task_best:8.4f} TFLOP/s   raw torch.mm {raw_best:8.4f} "
            f"TFLOP/s   ratio {ratio:.3f}",
            file=sys.stderr,
        )
    min_ratio = min(r["ratio"] for r in results)
    line = {
        "bench": "matmul",
        "device": device,
        "dtype": args.dtype,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "loadavg_1m": round(os.getloadavg()[0], 2),  # CPU figures mean little on a busy machine
        "results": results,
        "min_ratio": min_ratio,
        "goal": 0.95,
        "ok": min_ratio >= 0.95,
    }
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
