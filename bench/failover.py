"""Leader failover on 3 local nodes: kill -9 the leader K times.

Prints one JSON line: time from the kill to a new leader agreed by the two survivors, and the write
outage a client sees (the time from the kill until a submit sent after it is acknowledged), p50/p99/max over K kills. Usage: python bench/failover.py [--kills K] [--wan [--rtt aws-gcp=30,...]]

--wan puts the nodes behind the WAN link emulator (mcloud_tui.ops.wan; default RTTs aws-gcp 30 ms,
aws-azure 10 ms, gcp-azure 35 ms), so Raft between the nodes crosses emulated WAN links.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import tempfile
import time
from pathlib import Path

from control_plane.client import ControlPlaneClient
from control_plane.localcluster import LocalCluster

HOSTS = ("127.0.211.1", "127.0.212.1", "127.0.213.1")


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def make_cluster(tmp: str, wan: bool, rtt: str) -> LocalCluster:
    if not wan:
        return LocalCluster(Path(tmp), hosts=HOSTS)
    from mcloud_tui.ops.wan import parse_matrix
    from mcloud_tui.ops.wan.cluster import WanCluster

    return WanCluster(Path(tmp), hosts=HOSTS, matrix=parse_matrix(rtt))


async def run(kills: int, wan: bool = False, rtt: str = "") -> dict:
    to_leader: list[float] = []
    outages: list[float] = []
    lost = 0
    with tempfile.TemporaryDirectory() as tmp, make_cluster(tmp, wan, rtt) as cluster:
        cluster.wait_for_leader(15)
        async with ControlPlaneClient(
            cluster.endpoints, cluster.token, call_timeout=1.0, retry_deadline=30
        ) as client:
            acked: list[str] = []
            stamps: list[float] = []  # when each submit was acknowledged
            starts: list[float] = []  # when it was sent
            stop = asyncio.Event()

            async def writer() -> None:
                while not stop.is_set():
                    started = time.monotonic()
                    job = await client.submit_job("noop", {})
                    acked.append(job.id)
                    stamps.append(time.monotonic())
                    starts.append(started)

            task = asyncio.create_task(writer())
            for _ in range(kills):
                await asyncio.sleep(0.5)  # steady state before the kill
                leader = await asyncio.to_thread(cluster.wait_for_leader, 15)
                client._leader = cluster.nodes[leader].grpc  # the client knows the leader, as in steady use
                t_kill = time.monotonic()
                cluster.kill(leader, signal.SIGKILL)
                survivors = [i for i in range(3) if i != leader]
                await asyncio.to_thread(cluster.wait_for_leader, 15, survivors)
                to_leader.append(time.monotonic() - t_kill)
                # outage: from the kill to the first acknowledgement of a write sent after it
                deadline = time.monotonic() + 30
                while not any(st > t_kill for st in starts) and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                first_after = min(s for s, st in zip(stamps, starts, strict=True) if st > t_kill)
                outages.append(first_after - t_kill)
                cluster.start_node(leader)
                commit = cluster.health(survivors[0])["commit_index"]
                await asyncio.to_thread(cluster.wait_for_commit, leader, commit, 20)
            stop.set()
            await task
            present = {j.id for j in await client.list_jobs()}
            lost = len(set(acked) - present)
    extra = {}
    if wan:
        from mcloud_tui.ops.wan import parse_matrix

        extra = {"wan": True, "rtt_ms": parse_matrix(rtt).as_dict(), "goal_new_leader_p99_s": 3.0}
    return {
        "bench": "failover",
        "kills": kills,
        **extra,
        "new_leader_p50_s": round(pct(to_leader, 50), 3),
        "new_leader_p99_s": round(pct(to_leader, 99), 3),
        "new_leader_max_s": round(max(to_leader), 3),
        "write_outage_p50_s": round(pct(outages, 50), 3),
        "write_outage_p99_s": round(pct(outages, 99), 3),
        "write_outage_max_s": round(max(outages), 3),
        "acknowledged_jobs": len(acked),
        "acknowledged_jobs_lost": lost,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--wan", action="store_true", help="run the nodes behind the WAN link emulator")
    ap.add_argument("--rtt", default="", help="RTT ms per pair with --wan, e.g. aws-gcp=30,aws-azure=10")
    args = ap.parse_args()
    print(json.dumps(asyncio.run(run(args.kills, args.wan, args.rtt))))


if __name__ == "__main__":
    main()
