"""An asyncio client of the control plane that survives the loss of any node.

Every call goes to the current endpoint; UNAVAILABLE or a timeout moves it to the next one in
CP_ENDPOINTS order (same cloud first by convention) and retries with the same request id until
`retry_deadline`, so a retried write is applied once. Writes prefer the Raft leader once it is known
(followers forward to it anyway; going direct saves a WAN hop).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import grpc

from .auth import bearer
from .proto import mcloud_pb2 as pb
from .proto import mcloud_pb2_grpc as pb_grpc

# CANCELLED reaches a client when the server cancels the call (a node shutting down): retry elsewhere with
# the same request id. A caller's own cancellation surfaces as asyncio.CancelledError instead.
RETRYABLE = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}
)


class ControlPlaneError(Exception):
    """A call failed for a reason retrying elsewhere would not fix (or the retry deadline passed)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message


class ControlPlaneClient:
    def __init__(
        self,
        endpoints: Sequence[str],
        token: str,
        *,
        ca_cert: str | None = None,
        call_timeout: float = 5.0,
        retry_deadline: float = 30.0,
    ) -> None:
        if not endpoints:
            raise ValueError("CP_ENDPOINTS is empty: name at least one control-plane host:port")
        self.endpoints = list(endpoints)
        self._metadata = bearer(token)
        self._ca = Path(ca_cert).read_bytes() if ca_cert else None
        self.call_timeout = call_timeout
        self.retry_deadline = retry_deadline
        self._index = 0
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._stubs: dict[str, pb_grpc.ControlPlaneStub] = {}
        self.connected = False
        self._leader: str | None = None

    # ---- plumbing ------------------------------------------------------------------------------------
    @property
    def current_endpoint(self) -> str:
        return self.endpoints[self._index]

    def _stub(self, endpoint: str) -> pb_grpc.ControlPlaneStub:
        stub = self._stubs.get(endpoint)
        if stub is None:
            opts = [("grpc.enable_retries", 0), ("grpc.keepalive_time_ms", 10_000)]
            if self._ca:
                channel = grpc.aio.secure_channel(
                    endpoint, grpc.ssl_channel_credentials(self._ca), options=opts
                )
            else:
                channel = grpc.aio.insecure_channel(endpoint, options=opts)
            self._channels[endpoint] = channel
            stub = self._stubs[endpoint] = pb_grpc.ControlPlaneStub(channel)
        return stub

    def _order(self, prefer_leader: bool) -> list[str]:
        order = self.endpoints[self._index :] + self.endpoints[: self._index]
        if prefer_leader and self._leader and self._leader in self.endpoints:
            order.remove(self._leader)
            order.insert(0, self._leader)
        return order

    async def _call(
        self, method: str, request: Any, *, timeout: float | None = None, write: bool = False
    ) -> Any:
        if write and self._leader is None and method != "ClusterStatus":
            self._leader = ""  # ask once per client; an empty hint means "unknown, use the list order"
            with contextlib.suppress(ControlPlaneError):
                await self.find_leader()
        deadline = time.monotonic() + self.retry_deadline
        backoff = 0.05
        last: grpc.aio.AioRpcError | None = None
        while True:
            for endpoint in self._order(write):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    result = await getattr(self._stub(endpoint), method)(
                        request, metadata=self._metadata, timeout=min(timeout or self.call_timeout, remaining)
                    )
                except grpc.aio.AioRpcError as exc:
                    if exc.code() not in RETRYABLE:
                        raise ControlPlaneError(exc.code(), exc.details() or "") from None
                    last = exc
                    if exc.details() and "no Raft leader" in exc.details():
                        continue  # the node is up but the cluster is electing: try the others, then wait
                    self.connected = False
                    if endpoint == self._leader:
                        self._leader = None  # the leader is gone: ask again on the next write
                    continue
                self.connected = True
                self._index = self.endpoints.index(endpoint)
                return result
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 0.5)
        self.connected = False
        detail = f"{last.code().name}: {last.details()}" if last else "no attempt"
        raise ControlPlaneError(
            grpc.StatusCode.UNAVAILABLE,
            f"no control-plane node answered within {self.retry_deadline:.0f}s "
            f"(tried {', '.join(self.endpoints)}; last error {detail})",
        )

    async def find_leader(self) -> str | None:
        """Ask the cluster who leads and remember its gRPC address for writes."""
        status = await self.cluster_status()
        if status.leader_grpc:
            self._leader = status.leader_grpc
        return self._leader

    # ---- API -----------------------------------------------------------------------------------------
    async def submit_job(
        self,
        type: str,
        payload: dict[str, Any],
        *,
        cloud: str = "",
        gpu: bool = False,
        request_id: str | None = None,
    ) -> pb.Job:
        req = pb.SubmitJobRequest(
            type=type,
            payload_json=json.dumps(payload),
            cloud=cloud,
            gpu=gpu,
            request_id=request_id or uuid.uuid4().hex,
        )
        return await self._call("SubmitJob", req, write=True)

    async def get_job(self, job_id: str) -> pb.Job:
        return await self._call("GetJob", pb.GetJobRequest(id=job_id))

    async def list_jobs(self, states: Iterable[int] = (), limit: int = 0) -> list[pb.Job]:
        resp = await self._call("ListJobs", pb.ListJobsRequest(states=list(states), limit=limit))
        return list(resp.jobs)

    async def cancel_job(self, job_id: str) -> pb.Job:
        return await self._call(
            "CancelJob", pb.CancelJobRequest(id=job_id, request_id=uuid.uuid4().hex), write=True
        )

    async def wait_job(self, job_id: str, timeout: float = 600.0, poll: float = 0.2) -> pb.Job:
        """Poll until the job is terminal (SUCCEEDED, FAILED or CANCELLED) or `timeout` passes."""
        deadline = time.monotonic() + timeout
        terminal = {pb.SUCCEEDED, pb.FAILED, pb.CANCELLED}
        while True:
            job = await self.get_job(job_id)
            if job.state in terminal:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {pb.JobState.Name(job.state)} after {timeout:.0f}s")
            await asyncio.sleep(poll)

    async def watch_jobs(self, include_existing: bool = True) -> AsyncIterator[pb.Job]:
        """Every job (optionally) then every change, forever: on node loss or a stream the server ends, it
        reconnects to the next endpoint and replays every job (consumers upsert by id)."""
        replay = include_existing
        while True:
            endpoint = self.current_endpoint
            try:
                stream = self._stub(endpoint).WatchJobs(
                    pb.WatchJobsRequest(include_existing=replay), metadata=self._metadata
                )
                self.connected = True
                async for event in stream:
                    yield event.job
                # the node ended the stream (shutting down, or we fell too far behind): replay elsewhere
                self._index = (self._index + 1) % len(self.endpoints)
                replay = True
                continue
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in RETRYABLE:
                    raise ControlPlaneError(exc.code(), exc.details() or "") from None
                self.connected = False
                self._index = (self._index + 1) % len(self.endpoints)
                replay = True  # we may have missed changes while reconnecting
                await asyncio.sleep(0.2)

    async def lease_tasks(
        self,
        worker_id: str,
        cloud: str,
        gpu: bool,
        *,
        max_tasks: int = 1,
        wait_ms: int = 1000,
        task_types: Iterable[str] = (),
    ) -> list[pb.Lease]:
        req = pb.LeaseTasksRequest(
            worker_id=worker_id,
            cloud=cloud,
            gpu=gpu,
            max_tasks=max_tasks,
            wait_ms=wait_ms,
            task_types=list(task_types),
            request_id=uuid.uuid4().hex,
        )
        resp = await self._call("LeaseTasks", req, timeout=wait_ms / 1000 + self.call_timeout, write=True)
        return list(resp.leases)

    async def renew_lease(self, worker_id: str, job_id: str, token: int) -> pb.RenewLeaseResponse:
        req = pb.RenewLeaseRequest(
            worker_id=worker_id, job_id=job_id, token=token, request_id=uuid.uuid4().hex
        )
        return await self._call("RenewLease", req, write=True)

    async def complete_task(
        self,
        worker_id: str,
        job_id: str,
        token: int,
        *,
        success: bool,
        result: dict[str, Any] | None = None,
        error: str = "",
        artifact_uri: str = "",
        release: bool = False,
    ) -> pb.CompleteTaskResponse:
        req = pb.CompleteTaskRequest(
            worker_id=worker_id,
            job_id=job_id,
            token=token,
            success=success,
            result_json=json.dumps(result) if result is not None else "",
            error=error,
            artifact_uri=artifact_uri,
            release=release,
            request_id=uuid.uuid4().hex,
        )
        return await self._call("CompleteTask", req, write=True)

    async def complete_tasks(
        self, requests: Sequence[pb.CompleteTaskRequest]
    ) -> list[pb.CompleteTaskResponse]:
        """Report many outcomes in one call; results in the same order. Each gets a request id if it has
        none, so a retry after a lost reply is applied once."""
        batch = []
        for req in requests:
            if not req.request_id:
                req = pb.CompleteTaskRequest()
                req.CopyFrom(requests[len(batch)])
                req.request_id = uuid.uuid4().hex
            batch.append(req)
        resp = await self._call("CompleteTasks", pb.CompleteTasksRequest(completions=batch), write=True)
        return list(resp.results)

    async def cluster_status(self) -> pb.ClusterStatusResponse:
        return await self._call("ClusterStatus", pb.ClusterStatusRequest())

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
        self._stubs.clear()

    async def __aenter__(self) -> ControlPlaneClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
