"""The matrix-multiply task: a PyTorch matmul that stands in for an LLM pipeline stage.

``run({"size": 2048})`` -> ``{"device": "cuda"|"cpu", "size": 2048, "duration_ms": ..., "result_norm": ...,
"tflops": ..., "dtype": "float32", "repeat": 1, "seed": 0}``. CUDA when available (timed with CUDA events
after a synchronise, so the figure is the kernel's and not the launch's), CPU otherwise. Optional payload
fields: ``dtype`` (float32 | bfloat16 | float16), ``seed`` (int), ``repeat`` (1-1000), ``store_result``
(upload the product to storage and return its URI). Invalid payloads raise a ValueError naming the field;
a size that would not fit in memory is refused before anything is allocated.
"""

from __future__ import annotations

import io
import os
import time
from typing import Any

from worker.tasks import TaskCancelled, TaskContext
from worker.tasks._validate import bool_field, choice_field, int_field

MAX_SIZE = 16384
MAX_REPEAT = 1000
DTYPES = ("float32", "bfloat16", "float16")
_DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
# Fraction of the free memory the three matrices may take: the rest is for the allocator, the norm's
# temporaries and everything else in the process.
_MEMORY_HEADROOM = 0.8

_warmed: set[tuple[str, str]] = set()
_WARMUP_SIZE = 256


def _torch() -> Any:
    import torch  # deferred: importing torch costs ~1 s and the registry must stay cheap to import

    return torch


def pick_device(forced: str | None = None) -> str:
    """ "cuda" when a GPU is usable (and not forced off), else "cpu"."""
    if forced in ("cpu", "cuda"):
        if forced == "cuda" and not _torch().cuda.is_available():
            raise RuntimeError("device 'cuda' was asked for but torch sees no CUDA device")
        return forced
    return "cuda" if _torch().cuda.is_available() else "cpu"


def _cgroup_free_bytes() -> int | None:
    """Bytes left under a cgroup v2 memory limit (containers), or None when unlimited / unknown."""
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current") as f:
            return int(limit) - int(f.read().strip())
    except (OSError, ValueError):
        return None


def available_bytes(device: str) -> int:
    """Memory a new allocation can use now on ``device`` (GPU: cudaMemGetInfo; CPU: MemAvailable)."""
    if device == "cuda":
        free, _total = _torch().cuda.mem_get_info()
        return int(free)
    free = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    free = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if free is None:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    cg = _cgroup_free_bytes()
    return min(free, cg) if cg is not None else free


def parse_payload(payload: dict[str, Any]) -> tuple[int, str, int, int, bool]:
    """(size, dtype, seed, repeat, store_result) from the payload, or a ValueError naming the bad field."""
    if not isinstance(payload, dict):
        raise ValueError(f"payload must be a JSON object, got {type(payload).__name__}")
    size = int_field(payload, "size", 1, MAX_SIZE)
    dtype = choice_field(payload, "dtype", DTYPES, "float32")
    seed = int_field(payload, "seed", 0, 2**63 - 1, default=0)
    repeat = int_field(payload, "repeat", 1, MAX_REPEAT, default=1)
    store = bool_field(payload, "store_result", False)
    return size, dtype, seed, repeat, store


def check_fits(size: int, dtype: str, device: str) -> None:
    """Refuse (ValueError naming 'size') a multiply whose A, B and C would not fit in free memory."""
    need = 3 * size * size * _DTYPE_BYTES[dtype]
    free = available_bytes(device)
    if need > free * _MEMORY_HEADROOM:
        raise ValueError(
            f"payload field 'size' ({size}) needs {need / 2**30:.2f} GiB for three {dtype} matrices on "
            f"{device}, but only {free / 2**30:.2f} GiB is free (at most {_MEMORY_HEADROOM:.0%} may be used)"
        )


def _timed_mm(torch: Any, a: Any, b: Any, c: Any, repeat: int, device: str) -> float:
    """Seconds for ``repeat`` products a@b into c, synchronised on CUDA."""
    if device == "cuda":
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(repeat):
            torch.mm(a, b, out=c)
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1000.0
    t0 = time.perf_counter()
    for _ in range(repeat):
        torch.mm(a, b, out=c)
    return time.perf_counter() - t0


def multiply(
    size: int, dtype: str = "float32", seed: int = 0, repeat: int = 1, device: str | None = None
) -> tuple[dict[str, Any], Any]:
    """Run the timed multiply; returns (result dict, product tensor). Callers validate arguments first."""
    torch = _torch()
    dev = pick_device(device)
    check_fits(size, dtype, dev)
    tdtype = getattr(torch, dtype)
    gen = torch.Generator(device=dev).manual_seed(seed)
    a = torch.randn(size, size, generator=gen, device=dev, dtype=tdtype)
    b = torch.randn(size, size, generator=gen, device=dev, dtype=tdtype)
    c = torch.empty(size, size, device=dev, dtype=tdtype)
    if (dev, dtype) not in _warmed:
        # The first product in a process pays library set-up (CUDA context, cuBLAS handle, CPU thread
        # pool): pay it untimed on a small product so duration_ms is the steady state.
        n = min(size, _WARMUP_SIZE)
        _timed_mm(torch, a[:n, :n], b[:n, :n], torch.empty(n, n, device=dev, dtype=tdtype), 1, dev)
        _warmed.add((dev, dtype))
    seconds = _timed_mm(torch, a, b, c, repeat, dev)
    norm = float(torch.linalg.vector_norm(c, dtype=torch.float32).item())
    flops = 2.0 * size**3 * repeat
    result = {
        "device": dev,
        "size": size,
        "duration_ms": round(seconds * 1000.0, 3),
        "result_norm": norm,
        "tflops": float(f"{flops / seconds / 1e12:.4g}") if seconds > 0 else 0.0,
        "dtype": dtype,
        "repeat": repeat,
        "seed": seed,
    }
    del a, b
    return result, c


def run(payload: dict[str, Any], ctx: TaskContext | None = None) -> dict[str, Any]:
    """The task entry point (see the module docstring for the payload and result)."""
    size, dtype, seed, repeat, store = parse_payload(payload)
    if store and (ctx is None or ctx.storage is None):
        raise ValueError("payload field 'store_result' needs storage, and this worker has none configured")
    if ctx is not None and ctx.cancel.is_set():
        raise TaskCancelled("matrix_multiply cancelled before it started")
    result, product = multiply(size, dtype, seed, repeat, device=ctx.device if ctx else None)
    if store:
        assert ctx is not None and ctx.storage is not None
        buf = io.BytesIO()
        _torch().save(product.cpu(), buf)
        result["artifact_uri"] = ctx.storage.put_job_artifact(
            ctx.job_id, "product.pt", buf.getvalue(), "application/octet-stream"
        )
    return result
