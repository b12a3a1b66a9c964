"""Control-plane write throughput against raw PySyncObj, on 3 local nodes.

Prints one JSON line: jobs/s and submit (= commit) latency p50/p99 of pipelined SubmitJob calls from one
client, next to the commits/s of a bare replicated counter (same host, same password, same settings)
measured in the same run. Usage: python bench/cp_throughput.py [--jobs N] [--concurrency C] [--wan]

--wan puts the nodes behind the WAN link emulator (mcloud_tui.ops.wan; --rtt to change the matrix) and
reports the unloaded commit latency against the emulated RTT from the leader to its nearest follower (a
commit needs that one round trip; goal p50 <= RTT + 20 ms). The client sits in the leader's cloud. The raw
counter is skipped with --wan (it has no emulator).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from control_plane.client import ControlPlaneClient
from control_plane.localcluster import LocalCluster

HOSTS = ("127.0.201.1", "127.0.202.1", "127.0.203.1")
RAW_HOSTS = ("127.0.204.1", "127.0.205.1", "127.0.206.1")


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def raw_counter(ops: int) -> dict:
    peers = ",".join(f"{h}:7100" for h in RAW_HOSTS)
    password = secrets.token_urlsafe(16)
    script = str(Path(__file__).with_name("_raw_counter.py"))
    procs = [
        subprocess.Popen(
            [sys.executable, script, f"{h}:7100", peers, password, str(ops), "1" if i == 0 else "0"],
            stdout=subprocess.PIPE,
            # PySyncObj logs "truncating already-applied log entries" at CRITICAL when a leader re-sends
            # entries a follower already has (same term, so nothing diverges); keep the JSON line clean
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for i, h in enumerate(RAW_HOSTS)
    ]
    try:
        out, _ = procs[0].communicate(timeout=180)
        return json.loads(out.strip().splitlines()[-1])
    finally:
        for p in procs:
            p.kill()
            p.wait()


async def submit_load(cluster: LocalCluster, jobs: int, concurrency: int) -> dict:
    latencies: list[float] = []
    async with ControlPlaneClient(cluster.endpoints, cluster.token, retry_deadline=60) as client:
        await client.find_leader()
        queue = iter(range(jobs))

        async def worker() -> None:
            for i in queue:
                t0 = time.perf_counter()
                await client.submit_job("noop", {"i": i})
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
        # one at a time: the latency of a single commit with nothing else in flight
        single = []
        for i in range(200):
            t0 = time.perf_counter()
            await client.submit_job("noop", {"solo": i})
            single.append(time.perf_counter() - t0)
    return {
        "jobs_per_s": round(jobs / elapsed, 1),
        "submit_latency_p50_ms": round(pct(latencies, 50) * 1000, 2),
        "submit_latency_p99_ms": round(pct(latencies, 99) * 1000, 2),
        "unloaded_commit_latency_p50_ms": round(pct(single, 50) * 1000, 2),
        "unloaded_commit_latency_p99_ms": round(pct(single, 99) * 1000, 2),
    }


def wan_run(args: argparse.Namespace) -> dict:
    from mcloud_tui.ops.wan import CLOUDS, parse_matrix
    from mcloud_tui.ops.wan.cluster import WanCluster

    matrix = parse_matrix(args.rtt)
    with tempfile.TemporaryDirectory() as tmp, WanCluster(Path(tmp), hosts=HOSTS, matrix=matrix) as cluster:
        leader = cluster.wait_for_leader(20)
        figures = asyncio.run(submit_load(cluster, args.jobs, args.concurrency))
    cloud = CLOUDS[leader]
    quorum_rtt = min(matrix.rtt(cloud, c) for c in CLOUDS if c != cloud)
    figures.update(
        wan=True,
        rtt_ms=matrix.as_dict(),
        leader_cloud=cloud,
        quorum_rtt_ms=quorum_rtt,
        goal_commit_p50_ms=quorum_rtt + 20,
        commit_p50_within_goal=figures["unloaded_commit_latency_p50_ms"] <= quorum_rtt + 20,
    )
    return figures


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--raw-ops", type=int, default=10000)
    ap.add_argument("--wan", action="store_true", help="run the nodes behind the WAN link emulator")
    ap.add_argument("--rtt", default="", help="RTT ms per pair with --wan, e.g. aws-gcp=30,aws-azure=10")
    args = ap.parse_args()
    if args.wan:
        figures = wan_run(args)
        figures.update(bench="cp_throughput", jobs=args.jobs, concurrency=args.concurrency, nodes=3)
        print(json.dumps(figures))
        return
    with tempfile.TemporaryDirectory() as tmp, LocalCluster(Path(tmp), hosts=HOSTS) as cluster:
        cluster.wait_for_leader(15)
        figures = asyncio.run(submit_load(cluster, args.jobs, args.concurrency))
    # the raw counter swings a lot between runs (PySyncObj re-sends entries under load): take the median of 3
    raws = sorted(raw_counter(args.raw_ops)["raw_commits_per_s"] for _ in range(3))
    figures.update(raw_commits_per_s=raws[1], raw_runs=raws, raw_ops=args.raw_ops)
    figures["ratio_to_raw"] = round(figures["jobs_per_s"] / raws[1], 3)
    figures.update(bench="cp_throughput", jobs=args.jobs, concurrency=args.concurrency, nodes=3)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
