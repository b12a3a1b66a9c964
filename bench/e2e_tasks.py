"""Benchmark: no-op tasks per second through 3 workers and a 3-node control plane, all on loopback.

Queues N no-op jobs first (workers stopped), then starts one worker per cloud and measures how fast the
queue drains: N / (last finished_at - first started_at), from the control plane's own timestamps. Workers
lease in batches (one long-poll of any type, then a top-up of up to LEASE_BATCH cheap tasks). Goal:
>= 1,000 tasks/s. Prints progress to stderr and one JSON line to stdout.

    python bench/e2e_tasks.py [--jobs 5000] [--batch 64] [--ttl 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from control_plane.client import ControlPlaneClient
from control_plane.localcluster import LocalCluster
from control_plane.proto import mcloud_pb2 as pb

CLOUDS = ("aws", "gcp", "azure")


def free_hosts(count: int = 3, ports: tuple[int, ...] = (7000, 50051, 8080, 8081)) -> list[str]:
    """Loopback addresses away from the local target's 127.0.{1,2,3}.1 with the ports free."""
    for _ in range(200):
        b = random.randint(10, 250)
        hosts = [f"127.{b}.{c}.1" for c in random.sample(range(1, 250), count)]
        ok = True
        for h in hosts:
            for port in ports:
                with socket.socket() as s:
                    try:
                        s.bind((h, port))
                    except OSError:
                        ok = False
        if ok:
            return hosts
    raise RuntimeError("no free loopback addresses")


async def submit_all(client: ControlPlaneClient, n: int, concurrency: int = 64) -> list[str]:
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> str:
        async with sem:
            return (await client.submit_job("noop", {}, request_id=f"bench-{i}")).id

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def wait_done(client: ControlPlaneClient, n: int, timeout: float) -> list[pb.Job]:
    deadline = time.monotonic() + timeout
    while True:
        jobs = await client.list_jobs()
        done = [j for j in jobs if j.state in (pb.SUCCEEDED, pb.FAILED)]
        if len(done) >= n:
            return jobs
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(done)} of {n} done after {timeout}s")
        await asyncio.sleep(0.2)


async def bench(args: argparse.Namespace, base: Path) -> dict[str, object]:
    cluster = LocalCluster(base, hosts=free_hosts(), extra_env={"LEASE_TTL_S": str(args.ttl)})
    workers: list[subprocess.Popen[bytes]] = []
    try:
        cluster.start()
        cluster.wait_for_leader(30)
        async with ControlPlaneClient(cluster.endpoints, cluster.token) as client:
            t0 = time.perf_counter()
            await submit_all(client, args.jobs)
            submit_s = time.perf_counter() - t0
            print(f"queued {args.jobs} no-op jobs in {submit_s:.2f}s", file=sys.stderr)
            for i, cloud in enumerate(CLOUDS):
                eps = cluster.endpoints[i:] + cluster.endpoints[:i]
                env = dict(
                    os.environ,
                    WORKER_ID=f"bench-{cloud}",
                    CLOUD=cloud,
                    CP_ENDPOINTS=",".join(eps),
                    AUTH_TOKEN=cluster.token,
                    HEALTH_ADDR=f"{cluster.nodes[i].host}:8081",
                    WORKER_GPU="false",
                    LEASE_BATCH=str(args.batch),
                    LOG_LEVEL="WARNING",
                )
                with open(base / f"worker-{cloud}.log", "wb") as log:  # the child keeps its own fd
                    workers.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "worker"],
                            env=env,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                            start_new_session=True,
                        )
                    )
            jobs = await wait_done(client, args.jobs, args.timeout)
        ok = [j for j in jobs if j.state == pb.SUCCEEDED]
        first = min(j.started_at for j in jobs)
        last = max(j.finished_at for j in jobs)
        per_worker: dict[str, int] = {}
        for j in ok:
            per_worker[j.worker_id] = per_worker.get(j.worker_id, 0) + 1
        rate = len(jobs) / (last - first) if last > first else 0.0
        return {
            "bench": "e2e_tasks",
            "jobs": args.jobs,
            "succeeded": len(ok),
            "workers": 3,
            "lease_batch": args.batch,
            "drain_s": round(last - first, 3),
            "tasks_per_s": round(rate, 1),
            "submit_per_s": round(args.jobs / submit_s, 1),
            "per_worker": per_worker,
            "retries": sum(max(0, j.attempt - 1) for j in jobs),
            "cpus": os.cpu_count(),
            "loadavg_1m": round(os.getloadavg()[0], 2),
            "goal": 1000,
            "ok": rate >= 1000 and len(ok) == args.jobs,
        }
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(15)
            except subprocess.TimeoutExpired:
                w.kill()
        cluster.close()


def main(argv: list[str] | None = None) -> int:
    """Run once and print the JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--ttl", type=float, default=15.0)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--keep", action="store_true", help="keep the logs directory")
    args = ap.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="mcloud-bench-e2e-"))
    try:
        line = asyncio.run(bench(args, base))
        print(f"{line['tasks_per_s']} no-op tasks/s through 3 workers (goal 1000)", file=sys.stderr)
        print(json.dumps(line))
    finally:
        if args.keep:
            print(f"logs in {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
