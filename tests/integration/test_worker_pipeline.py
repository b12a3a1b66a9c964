"""The whole pipeline on loopback: 3 control-plane nodes, storage and one worker per cloud, as real processes.

Must-show items of issue 3: a matmul placed on gcp runs on the gcp worker (via `mcloud submit --wait`), a
worker killed mid-task loses nothing, the leader killed under 200 in-flight jobs loses nothing, bad payloads
fail their job with the field named while the worker goes on, storage works from every worker.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from control_plane.client import ControlPlaneClient
from control_plane.localcluster import LocalCluster, http_json, poll
from control_plane.proto import mcloud_pb2 as pb

pytestmark = pytest.mark.integration

CLOUDS = ("aws", "gcp", "azure")
AK, SK = "pipeline-access", "pipeline-secret-key"
BIN = Path(sys.executable).parent


@dataclass
class Pipeline:
    cluster: LocalCluster
    base: Path
    storage_addr: str = ""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    health: dict[str, str] = field(default_factory=dict)

    @property
    def hosts(self) -> list[str]:
        return [n.host for n in self.cluster.nodes]

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(self.base / f"{name}.log", "ab") as log:  # the child keeps its own copy of the fd
            proc = subprocess.Popen(
                args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.procs[name] = proc
        return proc

    def log(self, name: str, lines: int = 30) -> str:
        try:
            return "\n".join((self.base / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def start_storage(self) -> None:
        host = self.hosts[0]
        env = dict(
            os.environ,
            STORAGE_ADDR=f"{host}:9000",
            MINIO_ACCESS_KEY=AK,
            MINIO_SECRET_KEY=SK,
            DATA_DIR=str(self.base / "storage"),
            STORAGE_BACKEND="moto",
            PYTHONUNBUFFERED="1",
        )
        self.spawn("storage", [sys.executable, "-m", "worker.storage_server"], env)
        self.storage_addr = f"{host}:9000"
        poll(lambda: "bucket 'mcloud' ready" in self.log("storage"), 30, "storage ready")

    def worker_env(self, i: int, **extra: str) -> dict[str, str]:
        cloud = CLOUDS[i]
        eps = self.cluster.endpoints
        env = dict(os.environ)
        env.update(
            WORKER_ID=f"worker-{cloud}",
            CLOUD=cloud,
            CP_ENDPOINTS=",".join(eps[i:] + eps[:i]),
            AUTH_TOKEN=self.cluster.token,
            HEALTH_ADDR=f"{self.hosts[i]}:8081",
            WORKER_GPU="false",
            LEASE_WAIT_MS="500",
            PYTHONUNBUFFERED="1",
        )
        if self.storage_addr:
            env.update(MINIO_ENDPOINT=self.storage_addr, MINIO_ACCESS_KEY=AK, MINIO_SECRET_KEY=SK)
        env.update(extra)
        return env

    def start_worker(self, i: int, **extra: str) -> None:
        cloud = CLOUDS[i]
        self.spawn(f"worker-{cloud}", [sys.executable, "-m", "worker"], self.worker_env(i, **extra))
        self.health[cloud] = f"{self.hosts[i]}:8081"

    def wait_workers(self, timeout: float = 60) -> None:
        for cloud, addr in self.health.items():
            try:
                poll(lambda a=addr: (h := http_json(a)) and h["cp_connected"], timeout, f"worker {cloud} up")
            except TimeoutError:
                raise AssertionError(
                    f"worker {cloud} did not come up:\n{self.log('worker-' + cloud)}"
                ) from None

    def client(self) -> ControlPlaneClient:
        return ControlPlaneClient(self.cluster.endpoints, self.cluster.token, retry_deadline=30)

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def pipeline(make_cluster: Callable[..., LocalCluster], tmp_path: Path) -> Iterator[Callable[..., Pipeline]]:
    made: list[Pipeline] = []

    def make(
        storage: bool = True,
        workers: tuple[int, ...] = (0, 1, 2),
        worker_env: dict[str, str] | None = None,
        **cp_env: str,
    ) -> Pipeline:
        cluster = make_cluster(3, **cp_env)
        p = Pipeline(cluster, tmp_path)
        made.append(p)
        cluster.wait_for_leader(30)
        if storage:
            p.start_storage()
        for i in workers:
            p.start_worker(i, **(worker_env or {}))
        p.wait_workers()
        return p

    try:
        yield make
    finally:
        for p in made:
            p.close()


async def wait_terminal(client: ControlPlaneClient, ids: list[str], timeout: float) -> list[pb.Job]:
    deadline = time.monotonic() + timeout
    terminal = {pb.SUCCEEDED, pb.FAILED, pb.CANCELLED}
    while True:
        jobs = {j.id: j for j in await client.list_jobs()}
        if all(i in jobs and jobs[i].state in terminal for i in ids):
            return [jobs[i] for i in ids]
        if time.monotonic() > deadline:
            states = {pb.JobState.Name(jobs[i].state) for i in ids if i in jobs}
            raise TimeoutError(f"jobs not finished within {timeout}s (states seen: {states})")
        await asyncio.sleep(0.1)


# ---- must-show 1 and 6 -------------------------------------------------------------------------------------
def test_matmul_placed_on_gcp_runs_on_the_gcp_worker_and_storage_works_everywhere(pipeline) -> None:  # type: ignore[no-untyped-def]
    p = pipeline()
    env = dict(os.environ, CP_ENDPOINTS=",".join(p.cluster.endpoints), AUTH_TOKEN=p.cluster.token)
    out = subprocess.run(
        [str(BIN / "mcloud"), "submit", "matrix_multiply", '{"size": 1024}', "--cloud", "gcp", "--wait"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    job = json.loads(out.stdout)
    assert job["state"] == "SUCCEEDED" and job["worker"] == "worker-gcp" and job["worker_cloud"] == "gcp"
    result = job["result"]
    assert {"device", "size", "duration_ms", "result_norm", "tflops", "dtype"} <= result.keys()
    assert result["size"] == 1024 and result["device"] == "cpu" and result["result_norm"] > 0

    # storage reachable from every worker, and a stored product lands at jobs/<id>/
    for cloud in CLOUDS:
        h = poll(
            lambda c=cloud: (x := http_json(p.health[c])) and x["storage_ok"] and x, 20, f"{cloud} storage_ok"
        )
        assert h["storage_endpoint"] == p.storage_addr and h["completed"] >= (1 if cloud == "gcp" else 0)

    async def store_on_each() -> list[pb.Job]:
        async with p.client() as c:
            ids = [
                (await c.submit_job("matrix_multiply", {"size": 64, "store_result": True}, cloud=cl)).id
                for cl in CLOUDS
            ]
            return await wait_terminal(c, ids, 60)

    from worker.storage import Storage, StorageConfig

    store = Storage(StorageConfig(p.storage_addr, AK, SK))
    for job, cloud in zip(asyncio.run(store_on_each()), CLOUDS, strict=True):
        assert job.state == pb.SUCCEEDED, job.error
        assert job.worker_cloud == cloud and job.artifact_uri == f"s3://mcloud/jobs/{job.id}/product.pt"
        assert store.list_keys(f"jobs/{job.id}/") == [f"jobs/{job.id}/product.pt"]

    check = subprocess.run(
        [str(Path(__file__).resolve().parents[2] / "scripts" / "test-storage.sh"), p.storage_addr],
        env=dict(os.environ, MINIO_ACCESS_KEY=AK, MINIO_SECRET_KEY=SK),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
    assert SK not in check.stdout + check.stderr + p.log("storage", 200) + p.log("worker-gcp", 200)
    assert p.log("storage", 200).splitlines()[0].startswith("storage: moto S3 stand-in at ")


# ---- must-show 5 -----------------------------------------------------------------------------------------
def test_bad_payloads_fail_their_job_and_the_worker_goes_on(pipeline) -> None:  # type: ignore[no-untyped-def]
    p = pipeline(storage=False, workers=(1,))
    cases = [
        ("matrix_multiply", {"size": 0}, "payload field 'size'"),
        ("matrix_multiply", {"size": -1}, "payload field 'size'"),
        (
            "matrix_multiply",
            {"size": "abc"},
            "payload field 'size' must be an integer between 1 and 16384, got 'abc'",
        ),
        ("matrix_multiply", {"size": 10**6}, "payload field 'size'"),
        ("matrix_multiply", {}, "payload field 'size' is required"),
        ("matrix_multiply", {"size": 8, "dtype": "int4"}, "payload field 'dtype'"),
        ("matrix_multiply", {"size": 8, "store_result": True}, "'store_result' needs storage"),
        ("transmogrify", {"size": 8}, "unknown task type 'transmogrify'"),
    ]

    async def go() -> tuple[list[pb.Job], pb.Job]:
        async with p.client() as c:
            ids = [(await c.submit_job(t, pl)).id for t, pl, _ in cases]
            failed = await wait_terminal(c, ids, 60)
            good = await c.submit_job("matrix_multiply", {"size": 32})
            return failed, (await wait_terminal(c, [good.id], 60))[0]

    failed, good = asyncio.run(go())
    for job, (_, _, message) in zip(failed, cases, strict=True):
        assert job.state == pb.FAILED and message in job.error, (job.error, message)
        assert job.worker_id == "worker-gcp"
    assert good.state == pb.SUCCEEDED
    h = http_json(p.health["gcp"])
    assert h and h["failed"] == len(cases) and h["completed"] == 1 and h["state"] == "idle"
    assert p.procs["worker-gcp"].poll() is None


# ---- must-show 3 -----------------------------------------------------------------------------------------
def test_worker_killed_mid_task_is_leased_again_and_completes_once(pipeline) -> None:  # type: ignore[no-untyped-def]
    p = pipeline(storage=False, workers=(0, 1), LEASE_TTL_S="1.5")

    async def go() -> tuple[pb.Job, str]:
        async with p.client() as c:
            job = await c.submit_job("sleep", {"seconds": 2.0})
            deadline = time.monotonic() + 30
            while (j := await c.get_job(job.id)).state != pb.LEASED:
                assert time.monotonic() < deadline, "never leased"
                await asyncio.sleep(0.05)
            victim = j.worker_id
            p.procs[victim].send_signal(signal.SIGKILL)  # no goodbye: only the TTL can free the task
            p.procs[victim].wait(10)
            return (await wait_terminal(c, [job.id], 60))[0], victim

    job, victim = asyncio.run(go())
    assert job.state == pb.SUCCEEDED
    assert job.worker_id != victim and job.attempt == 2
    assert job.stale_completions == 0
    survivor = "worker-aws" if victim == "worker-gcp" else "worker-gcp"
    h = http_json(p.health[survivor.split("-")[1]])
    assert h and h["completed"] == 1


def test_sigterm_hands_the_running_task_back_at_once(pipeline) -> None:  # type: ignore[no-untyped-def]
    p = pipeline(storage=False, workers=(0,), worker_env={"STOP_GRACE_S": "0.5"}, LEASE_TTL_S="30")

    async def go() -> pb.Job:
        async with p.client() as c:
            job = await c.submit_job("sleep", {"seconds": 60})
            poll(
                lambda: (h := http_json(p.health["aws"])) and h["current_task"] == job.id, 30, "task running"
            )
            p.procs["worker-aws"].send_signal(signal.SIGTERM)
            assert p.procs["worker-aws"].wait(15) == 0
            return await c.get_job(job.id)

    job = asyncio.run(go())
    # handed back, not stranded for the 30 s TTL
    assert job.state == pb.PENDING and job.attempt == 1
    assert "handed back" in p.log("worker-aws", 50)


# ---- must-show 4 -----------------------------------------------------------------------------------------
def test_leader_killed_with_200_jobs_in_flight_all_complete_once(pipeline) -> None:  # type: ignore[no-untyped-def]
    p = pipeline(storage=False, LEASE_TTL_S="3")
    n = 200

    async def go() -> list[pb.Job]:
        async with p.client() as c:
            sem = asyncio.Semaphore(32)

            async def submit(i: int) -> str:
                async with sem:
                    if i % 2:
                        return (await c.submit_job("noop", {"i": i}, request_id=f"leader-kill-{i}")).id
                    return (
                        await c.submit_job(
                            "matrix_multiply", {"size": 64, "seed": i}, request_id=f"leader-kill-{i}"
                        )
                    ).id

            first = await asyncio.gather(*(submit(i) for i in range(n // 2)))
            leader = p.cluster.wait_for_leader(10)
            p.cluster.kill(leader, signal.SIGKILL)
            rest = await asyncio.gather(*(submit(i) for i in range(n // 2, n)))
            ids = list(first) + list(rest)
            assert len(set(ids)) == n
            jobs = await wait_terminal(c, ids, 120)
            assert len(await c.list_jobs()) == n  # no duplicate submissions
            return jobs

    jobs = asyncio.run(go())
    assert all(j.state == pb.SUCCEEDED for j in jobs), {pb.JobState.Name(j.state) for j in jobs}
    accepted = sum(h["completed"] for h in (http_json(a) for a in p.health.values()) if h)
    assert accepted == n  # every job's result accepted exactly once across the three workers
    assert all(j.result_json for j in jobs)
