"""A fake ops core with fixed data: same seam and same typed events as the real one, no processes.

Snapshot tests need every figure fixed (times, IPs, Raft term, jobs); the flood test needs a core that
does nothing but answer. The pilot test uses the real core instead (test_pilot_local.py).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from mcloud_tui.ops.events import (
    HOSTS,
    DeploymentInfo,
    HostHealth,
    HostLog,
    LeaderChanged,
    NodeInfo,
    PhaseFinished,
    PhaseStarted,
    ResourceProgress,
    SmokeStep,
)
from mcloud_tui.ops.localwan import WanStatus
from mcloud_tui.ops.pricing import load_table

T0 = 1_800_000_000.0  # fixed epoch for every timestamp shown
NOW = T0 + 5400.0  # the fixed clock: 1.5 h after provisioning

DEFAULT_RTTS = {"aws-gcp": 30.0, "aws-azure": 10.0, "gcp-azure": 35.0}
LOCAL_IPS = {"aws": "127.0.1.1", "gcp": "127.0.2.1", "azure": "127.0.3.1"}
CLOUD_NODES = {
    "aws": ("198.51.100.10", "t3.large"),
    "gcp": ("198.51.100.20", "e2-standard-2"),
    "azure": ("198.51.100.30", "Standard_D2s_v5"),
}


def fixed_clock() -> float:
    return NOW


def snapshot_jobs() -> list[FakeJob]:
    """Three fixed jobs: two done on the CPU, one running."""
    res = {"device": "cpu", "size": 1024, "duration_ms": 95.0, "result_norm": 18421.7, "tflops": 0.0226}
    return [
        FakeJob("job-0001", cloud="aws", state=3, worker_id="worker-aws", worker_cloud="aws",
                started_at=T0 + 100, finished_at=T0 + 101, result_json=json.dumps(res)),
        FakeJob("job-0002", cloud="", state=3, worker_id="worker-gcp", worker_cloud="gcp",
                started_at=T0 + 200, finished_at=T0 + 201, result_json=json.dumps(res | {"size": 2048})),
        FakeJob("job-0003", cloud="azure", state=2, worker_id="worker-azure", worker_cloud="azure",
                started_at=NOW - 4),
    ]  # fmt: skip


def snapshot_ops(target: str = "local") -> FakeOps:
    """A deployed fake core that replays fixed lines, health and jobs."""
    return FakeOps(
        target=target, deployed=True, replay=True, client=FakeClient(snapshot_jobs(), run_jobs=False)
    )


def deployment(target: str = "local") -> DeploymentInfo:
    if target == "local":
        hosts = {
            h: NodeInfo(host=h, ip=LOCAL_IPS[h], instance_type="local-process", region="loopback")
            for h in HOSTS
        }
        name = "mcloud-local"
    else:
        hosts = {
            h: NodeInfo(host=h, ip=ip, instance_type=t, spot=True, gpu=False, region="r1")
            for h, (ip, t) in CLOUD_NODES.items()
        }
        name = "mcloud-demo"
    return DeploymentInfo(target=target, deployment_name=name, hosts=hosts, provisioned_at=T0, ts=T0)  # type: ignore[arg-type]


def health_events(term: int = 3, commit: int = 42) -> list:
    out: list = []
    for h in HOSTS:
        out.append(
            HostHealth(
                host=h, cp="up", worker="up", storage="up" if h == "aws" else "absent",
                role="leader" if h == "aws" else "follower", term=term, commit_index=commit,
                leader="127.0.1.1:7000", has_quorum=True, worker_device="cpu", worker_state="idle", ts=T0,
            )
        )  # fmt: skip
    out.append(LeaderChanged(host="aws", leader="127.0.1.1:7000", term=term, ts=T0))
    return out


def deploy_lines(host: str, n: int = 12) -> list:
    out: list = [
        ResourceProgress(
            host=host,
            address=f'terraform_data.node["{host}"]',
            action="create",
            state="complete",
            elapsed_s=1.0,
            ts=T0,
        ),  # fmt: skip
    ]
    tasks = ["Gathering Facts", "render .env", "start control plane", "start worker", "wait for health"]
    for i in range(n):
        out.append(
            HostLog(host=host, source="ansible", line=f"TASK [{tasks[i % len(tasks)]}] ok #{i}", ts=T0)
        )  # type: ignore[arg-type]
    return out


@dataclass
class FakeJob:
    """Duck-typed pb.Job."""

    id: str
    type: str = "matrix_multiply"
    cloud: str = ""
    state: int = 1
    worker_id: str = ""
    worker_cloud: str = ""
    started_at: float = 0.0
    finished_at: float = 0.0
    result_json: str = ""


class FakeClient:
    """Duck-typed ControlPlaneClient: submit_job + watch_jobs; jobs finish on the CPU at once."""

    def __init__(self, jobs: list[FakeJob] | None = None, *, run_jobs: bool = True) -> None:
        self.jobs = {j.id: j for j in (jobs or [])}
        self.queue: asyncio.Queue[FakeJob] = asyncio.Queue()
        self.run_jobs = run_jobs
        self.closed = False
        self._n = 0

    async def submit_job(self, type: str, payload: dict, *, cloud: str = "", gpu: bool = False,
                         request_id: str | None = None) -> FakeJob:  # fmt: skip
        self._n += 1
        job = FakeJob(id=f"job-{self._n:04d}", type=type, cloud=cloud)
        self.jobs[job.id] = job
        await self.queue.put(job)
        if self.run_jobs:
            asyncio.get_running_loop().create_task(self._run(job, int(payload["size"])))
        return job

    async def _run(self, job: FakeJob, size: int) -> None:
        cloud = job.cloud or "gcp"
        leased = FakeJob(job.id, job.type, job.cloud, 2, f"worker-{cloud}", cloud, NOW - 2)
        await self.queue.put(leased)
        result = {"device": "cpu", "size": size, "duration_ms": 812.0, "result_norm": 1234.5, "tflops": 0.021}
        done = FakeJob(job.id, job.type, job.cloud, 3, f"worker-{cloud}", cloud, NOW - 2, NOW - 1,
                       json.dumps(result))  # fmt: skip
        self.jobs[job.id] = done
        await self.queue.put(done)

    async def watch_jobs(self, include_existing: bool = True):
        if include_existing:
            for job in list(self.jobs.values()):
                yield job
        while True:
            yield await self.queue.get()

    async def close(self) -> None:
        self.closed = True


@dataclass
class FakeOps:
    """The console's Operations seam with fixed, instant answers."""

    target: str = "local"
    deployed: bool = False
    client: FakeClient = field(default_factory=FakeClient)
    lines_per_host: int = 12
    calls: list[str] = field(default_factory=list)
    cost_answer: bool | None = None
    health_running: bool = False
    hold_up: asyncio.Event | None = None  # up() waits on it after provisioning; cancel() sets it

    replay: bool = False  # status() also replays fixed deploy lines + health (snapshots)
    wan: WanStatus | None = field(
        default_factory=lambda: WanStatus(enabled=True, running=True, rtt_ms=dict(DEFAULT_RTTS))
    )

    async def status(self, sink) -> DeploymentInfo | None:
        self.calls.append("status")
        if not self.deployed:
            return None
        if self.replay:
            for h in HOSTS:
                for e in deploy_lines(h, self.lines_per_host):
                    sink(e)
            for e in health_events():
                sink(e)
        return deployment(self.target)

    async def up(self, sink, *, confirm_cost=None) -> bool:
        self.calls.append("up")
        sink(PhaseStarted("preflight", ts=T0))
        sink(PhaseFinished("preflight", True, duration_s=0.1, ts=T0))
        if confirm_cost is not None:
            sink(PhaseStarted("plan", ts=T0))
            self.cost_answer = await confirm_cost(load_table().rate_for(gpu=False, spot=True))
            if not self.cost_answer:
                sink(PhaseFinished("plan", False, detail="cancelled at the cost preview", ts=T0))
                return False
        sink(PhaseStarted("provision", ts=T0))
        for h in HOSTS:
            for e in deploy_lines(h, self.lines_per_host):
                sink(e)
        self.deployed = True
        sink(deployment(self.target))
        sink(PhaseFinished("provision", True, duration_s=1.0, ts=T0))
        if self.hold_up is not None:
            await self.hold_up.wait()
            if "cancel" in self.calls:
                sink(PhaseFinished("deploy", False, detail="cancelled", ts=T0))
                return False
        sink(PhaseStarted("verify", ts=T0))
        for e in health_events():
            sink(e)
        sink(PhaseFinished("verify", True, duration_s=0.5, ts=T0))
        return True

    async def smoke(self, sink) -> bool:
        self.calls.append("smoke")
        sink(PhaseStarted("smoke", ts=T0))
        sink(SmokeStep("leader-agreed", None, True, "aws", 0.01, ts=T0))
        for h in HOSTS:
            sink(SmokeStep("cp-health", h, True, "", 0.01, ts=T0))
            sink(SmokeStep("storage", h, True, "put/get/delete", 0.05, ts=T0))
            sink(SmokeStep("matmul", h, True, "cpu", 0.8, ts=T0))
        sink(PhaseFinished("smoke", True, duration_s=1.0, ts=T0))
        return True

    async def down(self, sink) -> bool:
        self.calls.append("down")
        sink(PhaseStarted("teardown", ts=T0))
        for h in HOSTS:
            sink(HostLog(h, "ansible", "TASK [stop services] changed", ts=T0))
        self.deployed = False
        sink(PhaseFinished("teardown", True, duration_s=0.3, ts=T0))
        return True

    def start_health(self, sink, interval_s: float = 1.0) -> bool:
        self.calls.append("start_health")
        if not self.deployed:
            return False
        for e in health_events():
            sink(e)
        self.health_running = True
        return True

    def stop_health(self) -> None:
        self.calls.append("stop_health")
        self.health_running = False

    def wan_status(self) -> WanStatus | None:
        """Local and deployed: the emulator with the default matrix (what the real core reports)."""
        return self.wan if self.target == "local" and self.deployed else None

    async def partition(self, cloud: str) -> WanStatus:
        self.calls.append(f"partition {cloud}")
        assert self.wan is not None
        self.wan = WanStatus(True, True, self.wan.rtt_ms, tuple(sorted({*self.wan.partitioned, cloud})))
        return self.wan

    async def heal(self, cloud: str | None = None) -> WanStatus:
        self.calls.append(f"heal {cloud}")
        assert self.wan is not None
        left = () if cloud is None else tuple(c for c in self.wan.partitioned if c != cloud)
        self.wan = WanStatus(True, True, self.wan.rtt_ms, left)
        return self.wan

    def cancel(self) -> None:
        self.calls.append("cancel")
        if self.hold_up is not None:
            self.hold_up.set()

    async def control_plane(self) -> Any:
        return self.client
