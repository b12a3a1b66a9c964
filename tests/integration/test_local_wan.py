"""Issue 7 on the REAL local target: the WAN emulator is on by default, and partition/heal through the
headless front end behave as Raft promises. Private MCLOUD_STATE_DIR and loopback addresses.

up (emulator + every cross-cloud byte through its links) -> one leader agreed by all -> partition a
follower's cloud: its commit index stops while a job submitted through the majority completes -> heal: it
catches up -> switching MCLOUD_WAN=off redeploys without routes and partition is refused -> down leaves no
process and no port (the emulator's links and control endpoint included).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any, TypeVar

import pytest
from _local_target import LocalTarget

from control_plane.localcluster import poll
from mcloud_tui.ops.secrets import load_secrets
from mcloud_tui.ops.wan import WanControl

pytestmark = pytest.mark.integration
CLOUDS = ("aws", "gcp", "azure")
T = TypeVar("T")


def health(ip: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://{ip}:8080/health", timeout=2) as resp:
        return json.loads(resp.read())


def all_health(hosts: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {c: health(ip) for c, ip in hosts.items()}


def agreed_leader(hosts: dict[str, str]) -> str | None:
    """The cloud every node names as leader, when exactly one node says it is leader."""
    h = all_health(hosts)
    leaders = {c for c, v in h.items() if v["role"] == "leader"}
    named = {v["leader"] for v in h.values()}
    if len(leaders) != 1 or len(named) != 1:
        return None
    (cloud,) = leaders
    return cloud if named == {f"{hosts[cloud]}:7000"} else None


async def run_job_through(endpoints: list[str], token: str, timeout: float) -> Any:
    from control_plane.client import ControlPlaneClient
    from control_plane.proto import mcloud_pb2 as pb

    client = ControlPlaneClient(endpoints, token, retry_deadline=10)
    try:
        job = await client.submit_job("matrix_multiply", {"size": 64})
        deadline = time.monotonic() + timeout
        while pb.JobState.Name(job.state) not in ("SUCCEEDED", "FAILED", "CANCELLED"):
            assert time.monotonic() < deadline, f"job {job.id} still {pb.JobState.Name(job.state)}"
            await asyncio.sleep(0.05)  # polling the job with a deadline
            job = await client.get_job(job.id)
        return job
    finally:
        await client.close()


def test_partition_a_minority_cloud_then_heal_on_the_local_target(target: LocalTarget) -> None:
    hosts = dict(zip(CLOUDS, target.hosts, strict=True))
    up = target.headless("up")
    assert up.rc == 0, up.out
    assert "ops: wan: emulator started" in up.out and "RTT ms aws-gcp=30,aws-azure=10,gcp-azure=35" in up.out
    assert "wan/wan" in target.pids()
    gcp_env = (target.nodes_dir / "mcloud-local" / "gcp" / "env" / "controlplane.env").read_text()
    assert f"RAFT_ROUTES={hosts['aws']}:7000={hosts['aws'].rsplit('.', 1)[0]}.12:7000," in gcp_env

    leader = poll(lambda: agreed_leader(hosts), 20, "one leader agreed by all")
    ctl = WanControl(f"{hosts['aws']}:8085")
    raft_bytes = sum(lk["bytes"] for lk in ctl.state()["links"] if lk["service"] == "raft")
    assert raft_bytes > 0, "Raft between clouds must cross the emulator's links"

    minority = "gcp" if leader != "gcp" else "azure"
    majority = [c for c in CLOUDS if c != minority]
    part = target.headless("partition", "--cloud", minority)
    others = ", ".join(majority)
    assert part.rc == 0, part.out
    assert (
        part.out.strip()
        == f"wan: partitioned {minority}: its links to {others} are cut; partitioned now: {minority}"
    )
    cut_at = health(hosts[minority])["commit_index"]

    token = load_secrets(target.state_dir / "secrets" / "mcloud-local").auth_token
    job = asyncio.run(run_job_through([f"{hosts[c]}:50051" for c in majority], token, timeout=30))
    assert job.worker_cloud in majority and job.result_json, job
    h = all_health(hosts)
    assert h[minority]["commit_index"] == cut_at, "a cut-off node must not commit anything"
    leader_commit = max(h[c]["commit_index"] for c in majority)
    assert leader_commit > cut_at, "the majority keeps committing"
    assert all(h[c]["has_quorum"] for c in majority)

    heal = target.headless("heal", "--cloud", minority)
    assert heal.rc == 0 and heal.out.strip() == f"wan: healed {minority}; partitioned now: none", heal.out
    poll(lambda: health(hosts[minority])["commit_index"] >= leader_commit, 20, f"{minority} to catch up")
    poll(lambda: agreed_leader(hosts), 20, "one leader agreed by all after heal")

    # MCLOUD_WAN=off: the same deployment is redeployed without routes and the emulator stops
    off = target.headless("up", MCLOUD_WAN="off")
    assert off.rc == 0, off.out
    assert "wan: emulator stopped (MCLOUD_WAN=off)" in off.out
    assert (
        "RAFT_ROUTES"
        not in (target.nodes_dir / "mcloud-local" / "gcp" / "env" / "controlplane.env").read_text()
    )
    assert "wan/wan" not in target.pids()
    refused = target.headless("partition", "--cloud", minority)
    assert refused.rc == 2 and "WAN emulator is off for this deployment" in refused.out, refused.out
    assert "ops: wan: off" in target.headless("status").out

    down = target.headless("down")
    assert down.rc == 0, down.out
    assert target.leftover_processes() == []
    assert target.listening() == []  # service ports, every link address and the control endpoint
