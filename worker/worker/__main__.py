"""`mcloud-worker` / `python -m worker`: run one worker until SIGTERM (see worker.runtime)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from worker.config import ConfigError, WorkerConfig


async def _serve(cfg: WorkerConfig, busy: list[bool]) -> int:
    from worker.runtime import WorkerRuntime

    try:
        runtime = WorkerRuntime(cfg)
    except RuntimeError as exc:  # WORKER_GPU=true without a GPU
        print(f"mcloud-worker: {exc}", file=sys.stderr)
        return 2
    try:
        await runtime.start_health()
    except OSError as exc:
        print(
            f"mcloud-worker: HEALTH_ADDR {cfg.health_host}:{cfg.health_port} cannot be bound: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, runtime.request_stop)
    await runtime.run()
    busy.append(runtime.task_thread_busy)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Console script entry point."""
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        cfg = WorkerConfig.from_env()
    except ConfigError as exc:
        print(f"mcloud-worker: {exc}", file=sys.stderr)
        return 2
    busy: list[bool] = []
    code = asyncio.run(_serve(cfg, busy))
    if any(busy):
        # a cancelled task still computing in its thread (a long matmul cannot be interrupted): its lease is
        # already handed back, so leave without waiting for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
