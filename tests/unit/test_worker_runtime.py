"""The worker's lease loop against an in-memory control plane: results, errors, renewals, hand-back, health."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from control_plane.client import ControlPlaneError
from control_plane.proto import mcloud_pb2 as pb
from worker.config import WorkerConfig
from worker.runtime import WorkerRuntime


@dataclass
class FakeJob:
    id: str
    type: str
    payload: dict[str, Any]
    state: str = "PENDING"
    token: int = 0
    result: dict[str, Any] | None = None
    error: str = ""
    renewals: int = 0
    completions: int = 0


@dataclass
class FakeCP:
    """Just enough of ControlPlaneClient for the runtime: FIFO queue, tokens, release, renew."""

    ttl_ms: int = 300
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    lease_calls: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    connected: bool = True
    current_endpoint: str = "fake:1"
    refuse_renewals: str = ""

    def add(self, type_: str, payload: dict[str, Any]) -> FakeJob:
        job = FakeJob(f"j{len(self.jobs) + 1}", type_, payload)
        self.jobs[job.id] = job
        return job

    async def lease_tasks(self, worker_id, cloud, gpu, *, max_tasks=1, wait_ms=1000, task_types=()):  # type: ignore[no-untyped-def]
        self.lease_calls.append((max_tasks, tuple(task_types)))
        deadline = time.monotonic() + wait_ms / 1000
        while True:
            out = []
            for job in self.jobs.values():
                if (
                    job.state == "PENDING"
                    and (not task_types or job.type in task_types)
                    and len(out) < max_tasks
                ):
                    job.state, job.token = "LEASED", job.token + 1
                    out.append(
                        pb.Lease(
                            job_id=job.id,
                            type=job.type,
                            payload_json=json.dumps(job.payload),
                            token=job.token,
                            ttl_ms=self.ttl_ms,
                        )
                    )
            if out or time.monotonic() >= deadline:
                return out
            await asyncio.sleep(0.01)

    async def renew_lease(self, worker_id, job_id, token):  # type: ignore[no-untyped-def]
        job = self.jobs[job_id]
        job.renewals += 1
        if self.refuse_renewals:
            return pb.RenewLeaseResponse(ok=False, reason=self.refuse_renewals)
        return pb.RenewLeaseResponse(ok=job.token == token and job.state == "LEASED")

    async def complete_task(
        self, worker_id, job_id, token, *, success, result=None, error="", artifact_uri="", release=False
    ):  # type: ignore[no-untyped-def]
        job = self.jobs[job_id]
        if token != job.token or job.state != "LEASED":
            return pb.CompleteTaskResponse(accepted=False, reason="stale")
        if release:
            job.state = "PENDING"
            return pb.CompleteTaskResponse(accepted=True, reason="released")
        job.completions += 1
        job.state = "SUCCEEDED" if success else "FAILED"
        job.result, job.error = result, error
        return pb.CompleteTaskResponse(accepted=True)

    async def close(self) -> None:
        pass


def make_runtime(cp: FakeCP, port: int = 0, **cfg: Any) -> WorkerRuntime:
    base = dict(
        worker_id="w1",
        cloud="gcp",
        cp_endpoints=("fake:1",),
        auth_token="t",
        health_host="127.0.0.1",
        health_port=port,
        lease_wait_ms=200,
    )
    base.update(cfg)
    return WorkerRuntime(WorkerConfig(**base), client=cp, device="cpu")  # type: ignore[arg-type]


async def wait_until(pred, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.01)


async def test_runs_tasks_and_reports_results_and_errors() -> None:
    cp = FakeCP()
    good = cp.add("matrix_multiply", {"size": 32})
    bad = [cp.add("matrix_multiply", p) for p in ({"size": 0}, {"size": "abc"}, {"size": 10**6}, {})]
    unknown = cp.add("bogus", {})
    after = cp.add("noop", {})
    rt = make_runtime(cp)
    runner = asyncio.create_task(rt.run())
    try:
        await wait_until(lambda: all(j.state in ("SUCCEEDED", "FAILED") for j in cp.jobs.values()))
    finally:
        rt.request_stop()
        await runner
    assert good.state == "SUCCEEDED" and good.result and good.result["size"] == 32
    for job in bad:
        assert job.state == "FAILED" and "payload field 'size'" in job.error
    assert unknown.state == "FAILED" and "unknown task type 'bogus'" in unknown.error
    assert after.state == "SUCCEEDED"  # the worker went on serving after the failures
    assert all(j.completions == 1 for j in cp.jobs.values())
    assert rt.completed == 2 and rt.failed == 5


async def test_cheap_tasks_are_leased_in_batches_slow_ones_singly() -> None:
    cp = FakeCP()
    for _ in range(50):
        cp.add("noop", {})
    cp.add("sleep", {"seconds": 0})
    cp.add("sleep", {"seconds": 0})
    rt = make_runtime(cp, lease_batch=20)
    runner = asyncio.create_task(rt.run())
    try:
        await wait_until(lambda: all(j.state == "SUCCEEDED" for j in cp.jobs.values()))
    finally:
        rt.request_stop()
        await runner
    assert (19, ("noop",)) in cp.lease_calls  # top-ups only ask for cheap types
    assert all(n == 1 for n, types in cp.lease_calls if not types)
    assert len(cp.lease_calls) < 20


async def test_renews_while_a_slow_task_runs() -> None:
    cp = FakeCP(ttl_ms=300)
    job = cp.add("sleep", {"seconds": 0.6})
    rt = make_runtime(cp)
    runner = asyncio.create_task(rt.run())
    try:
        await wait_until(lambda: job.state == "SUCCEEDED")
    finally:
        rt.request_stop()
        await runner
    assert job.renewals >= 3  # every ttl/3 = 0.1 s for 0.6 s


async def test_refused_renewal_cancels_the_task() -> None:
    cp = FakeCP(ttl_ms=300, refuse_renewals="cancelled")
    job = cp.add("sleep", {"seconds": 30})
    rt = make_runtime(cp)
    runner = asyncio.create_task(rt.run())
    try:
        await wait_until(lambda: job.renewals >= 1 and rt.current is None, timeout=5)
    finally:
        rt.request_stop()
        await runner
    assert job.completions == 0


async def test_stop_hands_back_the_running_task_after_the_grace() -> None:
    cp = FakeCP()
    job = cp.add("sleep", {"seconds": 60})
    rt = make_runtime(cp, stop_grace_s=0.2)
    runner = asyncio.create_task(rt.run())
    await wait_until(lambda: rt.current is not None)
    assert rt.health()["state"] == "running" and rt.health()["current_task"] == job.id
    t0 = time.monotonic()
    rt.request_stop()
    await asyncio.wait_for(runner, 10)
    assert time.monotonic() - t0 < 5
    assert job.state == "PENDING" and job.completions == 0  # queued again at once, not after a TTL


async def test_stop_lets_a_short_task_finish() -> None:
    cp = FakeCP()
    job = cp.add("sleep", {"seconds": 0.3})
    rt = make_runtime(cp, stop_grace_s=10)
    runner = asyncio.create_task(rt.run())
    await wait_until(lambda: rt.current is not None)
    rt.request_stop()
    await asyncio.wait_for(runner, 10)
    assert job.state == "SUCCEEDED"


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode()


async def test_health_and_metrics_endpoints() -> None:
    cp = FakeCP()
    cp.add("noop", {})
    rt = make_runtime(cp)
    await rt.start_health()
    port = rt.health_server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    runner = asyncio.create_task(rt.run())
    try:
        await wait_until(lambda: rt.completed == 1)
        status, body = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/health")
        health = json.loads(body)
        assert status == 200
        for key in (
            "worker_id",
            "cloud",
            "device",
            "state",
            "cp_endpoint",
            "cp_connected",
            "storage_ok",
            "storage_endpoint",
            "current_task",
            "completed",
            "failed",
        ):
            assert key in health
        assert health["worker_id"] == "w1" and health["cloud"] == "gcp" and health["completed"] == 1
        assert health["storage_ok"] is False and health["storage_endpoint"] == ""
        status, text = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/metrics")
        assert 'mcloud_worker_tasks_total{outcome="succeeded",type="noop"} 1.0' in text
    finally:
        rt.request_stop()
        await runner


@pytest.mark.parametrize("payload", ["[1]", "{not json"])
async def test_malformed_payload_json_fails_the_job(payload: str) -> None:
    cp = FakeCP()
    job = cp.add("noop", {})
    rt = make_runtime(cp)
    orig = cp.lease_tasks

    async def lease(*a, **k):  # type: ignore[no-untyped-def]
        out = await orig(*a, **k)
        for lease in out:
            lease.payload_json = payload
        return out

    cp.lease_tasks = lease  # type: ignore[method-assign]
    runner = asyncio.create_task(rt.run())
    try:
        await wait_until(lambda: job.state == "FAILED")
    finally:
        rt.request_stop()
        await runner
    assert "payload" in job.error


@dataclass
class BatchingCP(FakeCP):
    """A control plane with the batch completion call: cheap results go back many per call."""

    batch_sizes: list[int] = field(default_factory=list)

    async def complete_tasks(self, requests):  # type: ignore[no-untyped-def]
        self.batch_sizes.append(len(requests))
        out = []
        for r in requests:
            result = json.loads(r.result_json) if r.result_json else None
            out.append(
                await self.complete_task(
                    r.worker_id, r.job_id, r.token, success=r.success, result=result, error=r.error
                )
            )
        return out


async def test_cheap_completions_are_batched_when_the_client_can() -> None:
    cp = BatchingCP()
    for _ in range(100):
        cp.add("noop", {})
    bad = cp.add("bogus", {})
    rt = make_runtime(cp, lease_batch=50)
    runner = asyncio.create_task(rt.run())
    try:
        await wait_until(lambda: all(j.state in ("SUCCEEDED", "FAILED") for j in cp.jobs.values()))
    finally:
        rt.request_stop()
        await runner
    assert rt.completed == 100 and rt.failed == 1 and "unknown task type" in bad.error
    assert max(cp.batch_sizes) > 1 and sum(cp.batch_sizes) == 101
    assert all(j.completions == 1 for j in cp.jobs.values())


async def test_a_failed_batch_top_up_still_runs_the_task_already_leased() -> None:
    """Regression (soak, restart_all): the top-up call failed while the first lease was held; the worker
    renewed that lease forever without running it."""

    class TopUpFails(FakeCP):
        async def lease_tasks(self, worker_id, cloud, gpu, *, max_tasks=1, wait_ms=1000, task_types=()):  # type: ignore[no-untyped-def]
            if task_types and not getattr(self, "failed_once", False):
                self.failed_once = True
                await super().lease_tasks(
                    worker_id, cloud, gpu, max_tasks=max_tasks, wait_ms=0, task_types=task_types
                )
                raise ControlPlaneError(grpc.StatusCode.CANCELLED, "node stopping")
            return await super().lease_tasks(
                worker_id, cloud, gpu, max_tasks=max_tasks, wait_ms=wait_ms, task_types=task_types
            )

    cp = TopUpFails()
    first = cp.add("noop", {})
    rt = make_runtime(cp, lease_batch=8)
    runner = asyncio.create_task(rt.run())
    try:
        await wait_until(lambda: first.state == "SUCCEEDED", timeout=5)
    finally:
        rt.request_stop()
        await runner
    assert first.completions == 1
