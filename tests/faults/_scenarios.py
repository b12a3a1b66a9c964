"""The fault scenarios, shared by the test suite (one test each) and the soak (random cycles).

Each scenario runs against a started `Rig` under a steady job load, injects one fault, checks what the
system promises for that fault (an AssertionError says what broke), then brings the rig back to full
strength. The generic invariants are checked by the caller (`Rig.check`).
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from _rig import LEADER_FALLBACK_S, Rig, poll

from control_plane.client import ControlPlaneClient, ControlPlaneError
from control_plane.proto import mcloud_pb2 as pb
from mcloud_tui.ops.wan import CLOUDS

Scenario = Callable[[Rig], Awaitable[dict[str, Any]]]


@asynccontextmanager
async def under_load(rig: Rig, rate_hz: float = 20):
    stop = asyncio.Event()
    task = asyncio.create_task(rig.load(stop, rate_hz=rate_hz))
    try:
        yield
    finally:
        stop.set()
        await task


async def _to_thread(fn: Callable[..., Any], *a: Any) -> Any:
    return await asyncio.to_thread(fn, *a)


async def kill_leader(rig: Rig, hold_s: float = 1.0) -> dict[str, Any]:
    """kill -9 the leader: the survivors elect a new one; the old one restarts from its journal."""
    async with under_load(rig):
        await asyncio.sleep(0.5)
        leader = await _to_thread(rig.leader)
        t0 = time.monotonic()
        rig.kill_node(leader, signal.SIGKILL)
        survivors = [i for i in range(3) if i != leader]
        new = await _to_thread(rig.leader, survivors, 15)
        took = time.monotonic() - t0
        assert new != leader
        await asyncio.sleep(hold_s)
        rig.start_node(leader)
        await asyncio.sleep(0.5)
    await _to_thread(rig.restore)
    return {"new_leader_s": round(took, 3)}


async def kill_follower(rig: Rig, hold_s: float = 1.5) -> dict[str, Any]:
    """kill -9 a follower: the leader keeps its term and keeps committing; the follower catches up."""
    async with under_load(rig):
        await asyncio.sleep(0.5)
        leader = await _to_thread(rig.leader)
        term = (rig.health(leader) or {})["term"]
        follower = random.choice([i for i in range(3) if i != leader])
        rig.kill_node(follower, signal.SIGKILL)
        before = (rig.health(leader) or {})["commit_index"]
        await asyncio.sleep(hold_s)
        h = rig.health(leader) or {}
        assert h.get("role") == "leader" and h.get("term") == term, (
            f"leader changed after a follower died: {h}"
        )
        assert h["commit_index"] > before, "the leader stopped committing with one follower down"
        rig.start_node(follower)
        await _to_thread(rig.cluster.wait_for_commit, follower, h["commit_index"], 20)
    await _to_thread(rig.restore)
    return {}


async def kill_worker_mid_task(rig: Rig) -> dict[str, Any]:
    """kill -9 a worker that holds a lease: the lease expires after its TTL and the task runs again."""
    cloud = random.choice(CLOUDS)
    ids = await rig.submit(1, "sleep", {"seconds": 1.5}, cloud=cloud)
    poll(
        lambda: (rig.worker_health(cloud) or {}).get("current_task") == ids[0],
        15,
        f"worker-{cloud} running {ids[0]}",
    )
    rig.kill(f"worker-{cloud}", signal.SIGKILL)
    t0 = time.monotonic()
    rig.start_worker(cloud)  # the only worker that may run a job placed on this cloud
    job = await rig.wait_terminal(ids[0], 30)
    assert job.attempt >= 2, f"the task was not leased again after its worker died (attempt {job.attempt})"
    await _to_thread(rig.restore)
    return {"rerun_after_s": round(time.monotonic() - t0, 3), "attempts": job.attempt}


async def _submit_pinned(rig: Rig, node: int, deadline_s: float) -> bool:
    """Whether a submit sent only to `node` is acknowledged within `deadline_s`."""
    async with ControlPlaneClient(
        [rig.cluster.nodes[node].grpc], rig.cluster.token, call_timeout=1.0, retry_deadline=deadline_s
    ) as cl:
        try:
            job = await cl.submit_job("noop", {"pinned": node})
        except ControlPlaneError:
            return False
    rig.acked.append(job.id)
    return True


async def partition_minority(rig: Rig, hold_s: float = 3.0) -> dict[str, Any]:
    """Cut a follower's cloud off: it cannot commit, the majority keeps serving, it catches up on heal."""
    async with under_load(rig):
        await asyncio.sleep(0.5)
        leader = await _to_thread(rig.leader)
        minority = random.choice([i for i in range(3) if i != leader])
        cloud = CLOUDS[minority]
        rig.cluster.partition(cloud)
        await asyncio.sleep(0.3)
        frozen = (rig.health(minority) or {})["commit_index"]
        majority_before = (rig.health(leader) or {})["commit_index"]
        committed = await _submit_pinned(rig, minority, 2.0)
        assert not committed, f"a write through the partitioned node ({cloud}) was acknowledged"
        await asyncio.sleep(max(0.0, hold_s - 2.3))
        h_min, h_maj = rig.health(minority) or {}, rig.health(leader) or {}
        assert h_min["commit_index"] == frozen, (
            f"partitioned {cloud} committed: {frozen} -> {h_min['commit_index']}"
        )
        assert h_maj["commit_index"] > majority_before, "the majority stopped committing"
        majority = [i for i in range(3) if i != minority]
        await _to_thread(rig.leader, majority, 10)
        rig.cluster.heal(cloud)
        t0 = time.monotonic()
        target = (rig.health(leader) or {})["commit_index"]
        await _to_thread(rig.cluster.wait_for_commit, minority, target, 20)
        catch_up = time.monotonic() - t0
    await _to_thread(rig.restore)
    return {
        "cloud": cloud,
        "catch_up_s": round(catch_up, 3),
        "majority_commits": h_maj["commit_index"] - majority_before,
    }


async def partition_leader(rig: Rig) -> dict[str, Any]:
    """Cut the leader's cloud off: it steps down within its fallback timeout; the others elect a leader."""
    async with under_load(rig):
        await asyncio.sleep(0.5)
        leader = await _to_thread(rig.leader)
        cloud = CLOUDS[leader]
        rig.cluster.partition(cloud)
        t0 = time.monotonic()
        others = [i for i in range(3) if i != leader]
        new = await _to_thread(rig.leader, others, 15)
        new_leader_s = time.monotonic() - t0
        poll(lambda: (rig.health(leader) or {}).get("role") != "leader", LEADER_FALLBACK_S + 2.0,
             f"isolated leader {cloud} stepping down")  # fmt: skip
        step_down = time.monotonic() - t0
        assert step_down <= LEADER_FALLBACK_S + 1.0, f"isolated leader stepped down after {step_down:.2f}s"
        assert new != leader
        rig.cluster.heal(cloud)
        target = (rig.health(new) or {})["commit_index"]
        await _to_thread(rig.cluster.wait_for_commit, leader, target, 20)
    await _to_thread(rig.restore)
    return {"cloud": cloud, "step_down_s": round(step_down, 3), "new_leader_s": round(new_leader_s, 3)}


async def restart_all(rig: Rig) -> dict[str, Any]:
    """Stop every control-plane node (SIGTERM, then kill -9 for good measure on one), restart them all."""
    async with under_load(rig):
        await asyncio.sleep(0.5)
    for i in range(3):
        rig.kill_node(i, signal.SIGKILL if i == 0 else signal.SIGTERM)
    t0 = time.monotonic()
    for i in range(3):
        rig.start_node(i)
    await _to_thread(rig.leader, None, 30)
    took = time.monotonic() - t0
    async with under_load(rig):
        await asyncio.sleep(1.0)
    await _to_thread(rig.restore)
    return {"leader_after_restart_s": round(took, 3)}


async def lose_storage_host(rig: Rig, hold_s: float = 2.0) -> dict[str, Any]:
    """Lose the whole storage host (its control plane, worker and storage, kill -9) and bring it back."""
    cloud = rig.plan.storage_cloud
    i = CLOUDS.index(cloud)
    async with under_load(rig):
        await asyncio.sleep(0.5)
        rig.kill_node(i, signal.SIGKILL)
        rig.kill(f"worker-{cloud}", signal.SIGKILL)
        rig.kill("storage", signal.SIGKILL)
        await _to_thread(rig.leader, [j for j in range(3) if j != i], 15)
        others = [c for c in CLOUDS if c != cloud]
        poll(lambda: all((rig.worker_health(c) or {}).get("storage_ok") is False for c in others), 15,
             "workers noticing storage is gone")  # fmt: skip
        # a task that needs storage while it is gone ends terminal (failed, with the reason), never stuck
        lost = await rig.submit(1, "matrix_multiply", {"size": 32, "store_result": True}, cloud=others[0])
        await asyncio.sleep(hold_s)
        rig.start_storage()
        rig.start_node(i)
        rig.start_worker(cloud)
    await _to_thread(rig.restore)
    poll(
        lambda: all((rig.worker_health(c) or {}).get("storage_ok") for c in CLOUDS),
        30,
        "storage back for all",
    )
    ok = await rig.submit(
        1, "matrix_multiply", {"size": 32, "store_result": True}, cloud=random.choice(CLOUDS)
    )
    job = await rig.wait_terminal(ok[0], 30)
    assert job.state == pb.SUCCEEDED and job.artifact_uri, f"store after recovery failed: {job.error}"
    during = await rig.wait_terminal(lost[0], 30)
    return {
        "during_outage": pb.JobState.Name(during.state),
        "during_error": during.error[:120],
        "artifact": job.artifact_uri,
    }


SCENARIOS: dict[str, Scenario] = {
    "kill_leader": kill_leader,
    "kill_follower": kill_follower,
    "kill_worker_mid_task": kill_worker_mid_task,
    "partition_minority": partition_minority,
    "partition_leader": partition_leader,
    "restart_all": restart_all,
    "lose_storage_host": lose_storage_host,
}
