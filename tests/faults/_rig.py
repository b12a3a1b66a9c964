"""The fault rig: the local target's processes behind the WAN emulator, a load generator, and a recorder.

Three control-plane nodes (aws, gcp, azure), one worker per cloud and the storage server on the aws host,
all real processes on their own loopback addresses, with the same address plan as the local target
(`mcloud_tui.ops.wan.WanPlan`): every cross-cloud byte (Raft, gRPC, S3) crosses the emulator. The rig can
kill/restart any of them, partition/heal a cloud, submit a steady stream of jobs, and check the invariants:

- every acknowledged job is present on every node and terminal;
- at most one accepted completion per task (`Job.accepted_completions` when the API has it);
- at most one leader per term (from /health sampled every 50 ms on every node);
- commit indexes never go back within a process, and nothing once committed is missing afterwards;
- the replicas agree on every job's final state.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from control_plane.client import ControlPlaneClient, ControlPlaneError
from control_plane.localcluster import http_json, poll, ports_free
from control_plane.proto import mcloud_pb2 as pb
from mcloud_tui.ops.wan import CLOUDS, LatencyMatrix
from mcloud_tui.ops.wan.cluster import WanCluster

AK, SK = "faults-access", "faults-secret-key"
TERMINAL = {pb.SUCCEEDED, pb.FAILED, pb.CANCELLED}
LEASE_TTL_S = 2.0
LEADER_FALLBACK_S = 3.0


def free_wan_hosts(ports: tuple[int, ...] = (7000, 50051, 8080, 8081, 9000)) -> list[str]:
    """Three loopback hosts 127.<b>.<c>.1 (never 127.0.x.1) whose ports and WAN link addresses are free."""
    rng = random.Random()
    for _ in range(200):
        b = rng.randint(10, 250)
        hosts = [f"127.{b}.{c}.1" for c in rng.sample(range(1, 250), 3)]
        links = [h.rsplit(".", 1)[0] + f".{11 + k}" for h in hosts for k in range(3)]
        if all(ports_free(h, ports) for h in hosts) and all(
            ports_free(h, (7000, 50051, 9000)) for h in links
        ):
            return hosts
    raise RuntimeError("no free loopback addresses found")


@dataclass
class Sample:
    t: float
    node: int
    incarnation: int
    role: str
    term: int
    leader: str
    commit_index: int


@dataclass
class Invariants:
    """Violation counts (all must be zero) plus what was checked."""

    acknowledged: int = 0
    lost: int = 0  # acknowledged but absent
    not_terminal: int = 0
    multi_accepted: int = 0  # tasks with more than one accepted completion
    accepted_checked: bool = False  # the API exposes accepted_completions
    terms_with_two_leaders: int = 0
    commit_regressions: int = 0
    committed_missing: int = 0  # a node ended below an index once reported committed
    replica_divergence: int = 0
    stale_completions: int = 0  # recorded and ignored late completions (not a violation)
    samples: int = 0

    @property
    def violations(self) -> int:
        return (
            self.lost
            + self.not_terminal
            + self.multi_accepted
            + self.terms_with_two_leaders
            + self.commit_regressions
            + self.committed_missing
            + self.replica_divergence
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "violations": self.violations}


class Recorder:
    """Samples /health of every node every 50 ms in a thread (the history the invariants need)."""

    def __init__(self, rig: Rig, interval: float = 0.05) -> None:
        self.rig = rig
        self.interval = interval
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Recorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        nodes = self.rig.cluster.nodes
        while not self._stop.is_set():
            for i, node in enumerate(nodes):
                inc = self.rig.incarnation[i]
                h = http_json(node.http, timeout=0.3)
                if h:
                    with self._lock:
                        self.samples.append(
                            Sample(
                                time.monotonic(), i, inc, h["role"], h["term"], h["leader"], h["commit_index"]
                            )
                        )
            self._stop.wait(self.interval)

    def snapshot(self) -> list[Sample]:
        with self._lock:
            return list(self.samples)


@dataclass
class Rig:
    base: Path
    hosts: list[str]
    matrix: LatencyMatrix = field(default_factory=LatencyMatrix)
    cluster: WanCluster = field(init=False)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    incarnation: list[int] = field(default_factory=lambda: [0, 0, 0])
    acked: list[str] = field(default_factory=list)
    recorder: Recorder | None = None

    def __post_init__(self) -> None:
        self.cluster = WanCluster(
            self.base / "cluster",
            hosts=self.hosts,
            matrix=self.matrix,
            extra_env={"LEASE_TTL_S": str(LEASE_TTL_S), "RAFT_LEADER_FALLBACK_S": str(LEADER_FALLBACK_S)},
        )
        self.plan = self.cluster.plan

    # ---- processes -----------------------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        with open(self.base / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(
                args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self, name: str, lines: int = 30) -> str:
        try:
            return "\n".join((self.base / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def alive(self, name: str) -> bool:
        p = self.procs.get(name)
        return p is not None and p.poll() is None

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        p = self.procs.get(name)
        if p is not None and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def start_storage(self) -> None:
        host = self.hosts[CLOUDS.index(self.plan.storage_cloud)]
        env = dict(
            os.environ,
            STORAGE_ADDR=f"{host}:{self.plan.s3_port}",
            MINIO_ACCESS_KEY=AK,
            MINIO_SECRET_KEY=SK,
            DATA_DIR=str(self.base / "storage"),
            STORAGE_BACKEND="moto",
            PYTHONUNBUFFERED="1",
        )
        before = self.log("storage", 100000).count("bucket 'mcloud' ready")
        self._spawn("storage", [sys.executable, "-m", "worker.storage_server"], env)
        poll(
            lambda: (
                self.log("storage", 100000).count("bucket 'mcloud' ready") > before
                or not self.alive("storage")
            ),
            30,
            "storage ready",
        )
        assert self.alive("storage"), self.log("storage")

    def worker_health_addr(self, cloud: str) -> str:
        return f"{self.hosts[CLOUDS.index(cloud)]}:8081"

    def start_worker(self, cloud: str) -> None:
        env = dict(
            os.environ,
            WORKER_ID=f"worker-{cloud}",
            CLOUD=cloud,
            CP_ENDPOINTS=self.plan.cp_endpoints(cloud),
            AUTH_TOKEN=self.cluster.token,
            HEALTH_ADDR=self.worker_health_addr(cloud),
            WORKER_GPU="false",
            LEASE_WAIT_MS="500",
            CP_RETRY_S="5",
            STOP_GRACE_S="1",
            MINIO_ENDPOINT=self.plan.minio_endpoint(cloud),
            MINIO_ACCESS_KEY=AK,
            MINIO_SECRET_KEY=SK,
            PYTHONUNBUFFERED="1",
        )
        self._spawn(f"worker-{cloud}", [sys.executable, "-m", "worker"], env)

    def worker_health(self, cloud: str) -> dict[str, Any] | None:
        return http_json(self.worker_health_addr(cloud))

    def wait_workers(self, timeout: float = 60) -> None:
        for cloud in CLOUDS:
            poll(
                lambda c=cloud: (self.worker_health(c) or {}).get("cp_connected"),
                timeout,
                f"worker-{cloud} connected ({self.log(f'worker-{cloud}', 5)})",
            )

    def kill_node(self, i: int, sig: int = signal.SIGKILL) -> None:
        self.cluster.kill(i, sig)

    def start_node(self, i: int) -> None:
        self.incarnation[i] += 1  # a restarted process may report lower indexes until it replays
        self.cluster.start_node(i)

    def start(self) -> Rig:
        self.base.mkdir(parents=True, exist_ok=True)
        self.cluster.start()
        self.recorder = Recorder(self).start()
        self.start_storage()
        for cloud in CLOUDS:
            self.start_worker(cloud)
        self.cluster.wait_for_leader(30)
        self.wait_workers()
        return self

    def close(self) -> None:
        if self.recorder:
            self.recorder.stop()
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)
        self.cluster.close()

    # ---- state ----------------------------------------------------------------------------------------
    def leader(self, among: list[int] | None = None, timeout: float = 20) -> int:
        return self.cluster.wait_for_leader(timeout, among)

    def health(self, i: int) -> dict[str, Any] | None:
        return self.cluster.health(i)

    def restore(self) -> None:
        """Back to full strength: heal, restart whatever is dead, wait for leader and workers."""
        self.cluster.heal()
        for i, node in enumerate(self.cluster.nodes):
            if not node.alive:
                self.start_node(i)
        if not self.alive("storage"):
            self.start_storage()
        for cloud in CLOUDS:
            if not self.alive(f"worker-{cloud}"):
                self.start_worker(cloud)
        self.leader(timeout=30)
        self.wait_workers()

    def client(self, endpoints: list[str] | None = None, **kw: Any) -> ControlPlaneClient:
        """An operator's client on the host (reaches every node directly)."""
        kw.setdefault("retry_deadline", 20)
        kw.setdefault("call_timeout", 2.0)
        return ControlPlaneClient(endpoints or self.cluster.endpoints, self.cluster.token, **kw)

    # ---- load -----------------------------------------------------------------------------------------
    async def load(self, stop: asyncio.Event, *, rate_hz: float = 20, sleep_s: float = 0.3) -> int:
        """Submit noop and short sleep jobs until `stop`; acknowledged ids go to `self.acked`."""
        n = 0
        async with self.client() as cl:
            while not stop.is_set():
                n += 1
                kind = ("sleep", {"seconds": sleep_s}) if n % 3 == 0 else ("noop", {"n": n})
                try:
                    job = await cl.submit_job(*kind)
                    self.acked.append(job.id)
                except ControlPlaneError:
                    pass  # not acknowledged: the client may not count it (it may still exist)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1 / rate_hz)
        return n

    async def submit(self, n: int, type_: str = "noop", payload: dict | None = None, **kw: Any) -> list[str]:
        async with self.client() as cl:
            ids = [(await cl.submit_job(type_, payload or {"i": i}, **kw)).id for i in range(n)]
        self.acked.extend(ids)
        return ids

    async def wait_terminal(self, job_id: str, timeout: float = 30) -> Any:
        """The job once terminal, read from the leader (a lagging follower may not know it yet)."""
        deadline = time.monotonic() + timeout
        while True:
            leader = await asyncio.to_thread(self.leader, None, 20)
            async with ControlPlaneClient(
                [self.cluster.nodes[leader].grpc], self.cluster.token, retry_deadline=5
            ) as cl:
                try:
                    job = await cl.get_job(job_id)
                    if job.state in TERMINAL:
                        return job
                except ControlPlaneError:
                    pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{job_id} not terminal within {timeout}s")
            await asyncio.sleep(0.1)

    # ---- invariants -----------------------------------------------------------------------------------
    async def _jobs_at(self, i: int) -> dict[str, Any]:
        async with ControlPlaneClient(
            [self.cluster.nodes[i].grpc], self.cluster.token, retry_deadline=5
        ) as cl:
            return {j.id: j for j in await cl.list_jobs()}

    async def settle(self, timeout: float = 60) -> None:
        """Wait until every acknowledged job is terminal on the leader and every node has caught up."""
        deadline = time.monotonic() + timeout
        leader = await asyncio.to_thread(self.leader, None, 30)
        want = set(self.acked)
        while True:
            jobs = await self._jobs_at(leader)
            open_ = [j for j in want if j not in jobs or jobs[j].state not in TERMINAL]
            if not open_:
                break
            if time.monotonic() > deadline:
                return  # check() counts them
            await asyncio.sleep(0.2)
        h = self.health(leader) or {}
        target = h.get("commit_index", 0)
        for i in range(3):
            with contextlib.suppress(TimeoutError):
                await asyncio.to_thread(
                    self.cluster.wait_for_commit, i, target, max(1.0, deadline - time.monotonic())
                )

    async def check(self, since: float = 0.0) -> Invariants:
        """Settle, then count every invariant violation over the history recorded since `since`."""
        await self.settle()
        inv = Invariants(acknowledged=len(self.acked))
        leader = await asyncio.to_thread(self.leader, None, 30)
        views = [await self._jobs_at(i) for i in range(3)]
        jobs = views[leader]
        for job_id in self.acked:
            job = jobs.get(job_id)
            if job is None:
                inv.lost += 1
            elif job.state not in TERMINAL:
                inv.not_terminal += 1
        for job in (jobs[j] for j in self.acked if j in jobs):  # this check's jobs only
            inv.stale_completions += job.stale_completions
            accepted = getattr(job, "accepted_completions", None)
            if accepted is not None and "accepted_completions" in type(job).DESCRIPTOR.fields_by_name:
                inv.accepted_checked = True
                inv.multi_accepted += accepted > 1
        for view in views:
            for job_id, job in jobs.items():
                other = view.get(job_id)
                if other is None or (other.state, other.result_json, other.attempt) != (
                    job.state,
                    job.result_json,
                    job.attempt,
                ):
                    inv.replica_divergence += 1
        assert self.recorder is not None
        samples = [s for s in self.recorder.snapshot() if s.t >= since]
        inv.samples = len(samples)
        inv.terms_with_two_leaders = count_split_terms(samples)
        inv.commit_regressions = count_commit_regressions(samples)
        top = max((s.commit_index for s in samples), default=0)
        for i in range(3):
            h = self.health(i)
            if h is None or h["commit_index"] < top:
                inv.committed_missing += 1
        return inv


def count_split_terms(samples: list[Sample]) -> int:
    """Terms in which two different nodes reported themselves leader.

    A node counts as leader of a term when two consecutive samples of it say (leader, term): PySyncObj's
    getStatus reads role and term without a lock, so one sample taken while a leader steps down can pair
    the old role with the new term; a real leader holds its role for at least a heartbeat.
    """
    leaders: dict[int, set[int]] = defaultdict(set)
    prev: dict[tuple[int, int], tuple[str, int]] = {}
    for s in sorted(samples, key=lambda s: s.t):
        key = (s.node, s.incarnation)
        if s.role == "leader" and prev.get(key) == ("leader", s.term):
            leaders[s.term].add(s.node)
        prev[key] = (s.role, s.term)
    return sum(1 for nodes in leaders.values() if len(nodes) > 1)


def count_commit_regressions(samples: list[Sample]) -> int:
    """Times a node's commit index went down within one process lifetime."""
    last: dict[tuple[int, int], int] = {}
    bad = 0
    for s in sorted(samples, key=lambda s: s.t):
        key = (s.node, s.incarnation)
        if key in last and s.commit_index < last[key]:
            bad += 1
        last[key] = max(last.get(key, 0), s.commit_index)
    return bad
