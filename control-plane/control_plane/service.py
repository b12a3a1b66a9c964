"""The gRPC servicer: validates requests, proposes commands through Raft, answers reads from local state."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator

import grpc

from .config import NodeConfig, parse_hostport
from .convert import grant_to_pb, job_to_pb
from .proto import mcloud_pb2 as pb
from .proto import mcloud_pb2_grpc as pb_grpc
from .raft import ProposalFailed, RaftNode
from .state import PENDING, STATES, Job, JobStore

KNOWN_CLOUDS = ("aws", "gcp", "azure")
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_LEASE_WAIT_MS = 30_000
MAX_LEASE_BATCH = 256


def _rid(request_id: str) -> str:
    return request_id or uuid.uuid4().hex


class Watchers:
    """Fans job changes out to WatchJobs streams and wakes long-polling LeaseTasks calls."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[Job | None]] = set()
        self.pending = asyncio.Event()

    #: a watcher this far behind is cut off; its client reconnects and replays the current state instead
    MAX_BACKLOG = 20_000

    def publish(self, jobs: list[Job]) -> None:
        for job in jobs:
            if job.state == PENDING:
                self.pending.set()
        for q in list(self.queues):
            if q.qsize() > self.MAX_BACKLOG:
                self.queues.discard(q)
                q.put_nowait(None)
                continue
            for job in jobs:
                q.put_nowait(job)


class ControlPlaneService(pb_grpc.ControlPlaneServicer):
    def __init__(self, cfg: NodeConfig, node: RaftNode, watchers: Watchers) -> None:
        self.cfg = cfg
        self.node = node
        self.watchers = watchers

    # ---- helpers -------------------------------------------------------------------------------------
    async def _propose(self, context: grpc.aio.ServicerContext, method: str, *args: object) -> object:
        try:
            return await self.node.propose(method, *args)
        except ProposalFailed as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"{exc}; retry with the same request_id")

    def _job(self, job_id: str) -> Job | None:
        return self.node.read(lambda s: s.jobs[job_id].copy() if job_id in s.jobs else None)

    # ---- jobs ----------------------------------------------------------------------------------------
    async def SubmitJob(self, request: pb.SubmitJobRequest, context: grpc.aio.ServicerContext) -> pb.Job:
        if not request.type.strip():
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "field 'type' is empty: name a task type")
        if len(request.payload_json.encode()) > MAX_PAYLOAD_BYTES:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"field 'payload_json' is larger than {MAX_PAYLOAD_BYTES} bytes: put large inputs in storage",
            )
        try:
            payload = json.loads(request.payload_json or "{}")
        except json.JSONDecodeError as exc:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"field 'payload_json' is not valid JSON: {exc}"
            )
        if not isinstance(payload, dict):
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "field 'payload_json' must be a JSON object"
            )
        if request.cloud and request.cloud not in KNOWN_CLOUDS:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"field 'cloud' must be one of {', '.join(KNOWN_CLOUDS)} (or empty for any), got {request.cloud!r}",
            )
        job = await self._propose(
            context,
            "submit",
            _rid(request.request_id),
            request.type.strip(),
            json.dumps(payload, separators=(",", ":")),
            request.cloud,
            request.gpu,
            time.time(),
        )
        return job_to_pb(job)  # type: ignore[arg-type]

    async def GetJob(self, request: pb.GetJobRequest, context: grpc.aio.ServicerContext) -> pb.Job:
        job = self._job(request.id)
        if job is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no job {request.id!r}")
        return job_to_pb(job)  # type: ignore[arg-type]

    async def ListJobs(
        self, request: pb.ListJobsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListJobsResponse:
        wanted = {pb.JobState.Name(s) for s in request.states}

        def select(store: JobStore) -> list[Job]:
            jobs = [j for j in reversed(store.jobs.values()) if not wanted or j.state in wanted]
            return [j.copy() for j in (jobs[: request.limit] if request.limit else jobs)]

        return pb.ListJobsResponse(jobs=[job_to_pb(j) for j in self.node.read(select)])

    async def CancelJob(self, request: pb.CancelJobRequest, context: grpc.aio.ServicerContext) -> pb.Job:
        if self._job(request.id) is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no job {request.id!r}")
        job = await self._propose(context, "cancel", _rid(request.request_id), request.id, time.time())
        return job_to_pb(job)  # type: ignore[arg-type]

    async def WatchJobs(
        self, request: pb.WatchJobsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.JobEvent]:
        queue: asyncio.Queue[Job | None] = asyncio.Queue()
        self.watchers.queues.add(queue)
        try:
            if request.include_existing:
                for job in self.node.read(lambda s: [j.copy() for j in s.jobs.values()]):
                    yield pb.JobEvent(job=job_to_pb(job))
            while True:
                job = await queue.get()
                if job is None:
                    return
                yield pb.JobEvent(job=job_to_pb(job))
        finally:
            self.watchers.queues.discard(queue)

    # ---- tasks ---------------------------------------------------------------------------------------
    async def LeaseTasks(
        self, request: pb.LeaseTasksRequest, context: grpc.aio.ServicerContext
    ) -> pb.LeaseTasksResponse:
        if not request.worker_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "field 'worker_id' is empty")
        max_tasks = min(max(1, request.max_tasks), MAX_LEASE_BATCH)
        types = tuple(sorted(request.task_types))
        deadline = time.monotonic() + min(request.wait_ms, MAX_LEASE_WAIT_MS) / 1000
        base_rid = _rid(request.request_id)
        attempt = 0
        # a retry of a call whose answer was lost (node stopped, timeout): give back what it was granted
        prior = self.node.read(lambda s: s.applied.get(base_rid))
        if isinstance(prior, tuple):
            return pb.LeaseTasksResponse(leases=[grant_to_pb(g) for g in prior])

        def eligible(store: JobStore) -> bool:
            keys = [(request.cloud, False), ("", False)]
            if request.gpu:
                keys += [(request.cloud, True), ("", True)]
            return any(store._peek(k, frozenset(types)) is not None for k in keys)

        while True:
            self.watchers.pending.clear()
            if self.node.read(eligible):
                rid = base_rid if attempt == 0 else f"{base_rid}:{attempt}"
                attempt += 1
                grants = await self._propose(
                    context,
                    "lease",
                    rid,
                    request.worker_id,
                    request.cloud,
                    request.gpu,
                    max_tasks,
                    types,
                    self.cfg.lease_ttl,
                    time.time(),
                )
                if grants:
                    return pb.LeaseTasksResponse(leases=[grant_to_pb(g) for g in grants])  # type: ignore[union-attr]
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return pb.LeaseTasksResponse()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.watchers.pending.wait(), min(remaining, 0.5))

    async def RenewLease(
        self, request: pb.RenewLeaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.RenewLeaseResponse:
        res = await self._propose(
            context,
            "renew",
            _rid(request.request_id),
            request.worker_id,
            request.job_id,
            request.token,
            self.cfg.lease_ttl,
            time.time(),
        )
        return pb.RenewLeaseResponse(ok=res.ok, expires_at=res.expires_at, reason=res.reason)  # type: ignore[union-attr]

    @staticmethod
    def _completion_problem(request: pb.CompleteTaskRequest) -> str | None:
        if request.result_json:
            try:
                json.loads(request.result_json)
            except json.JSONDecodeError as exc:
                return f"field 'result_json' is not valid JSON: {exc}"
        if len(request.result_json.encode()) > MAX_PAYLOAD_BYTES:
            return f"field 'result_json' is larger than {MAX_PAYLOAD_BYTES} bytes: upload it and pass artifact_uri"
        return None

    def _complete_args(self, request: pb.CompleteTaskRequest) -> tuple[object, ...]:
        return (
            _rid(request.request_id),
            request.worker_id,
            request.job_id,
            request.token,
            request.success,
            request.result_json,
            request.error,
            request.artifact_uri,
            request.release,
            time.time(),
        )

    async def CompleteTask(
        self, request: pb.CompleteTaskRequest, context: grpc.aio.ServicerContext
    ) -> pb.CompleteTaskResponse:
        problem = self._completion_problem(request)
        if problem:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        res = await self._propose(context, "complete", *self._complete_args(request))
        return pb.CompleteTaskResponse(accepted=res.accepted, reason=res.reason)  # type: ignore[union-attr]

    async def CompleteTasks(
        self, request: pb.CompleteTasksRequest, context: grpc.aio.ServicerContext
    ) -> pb.CompleteTasksResponse:
        problems = [self._completion_problem(c) for c in request.completions]
        valid = [c for c, p in zip(request.completions, problems, strict=True) if p is None]
        try:  # proposed in one event-loop turn: one Raft entry for the whole call
            results = iter(
                await asyncio.gather(*(self.node.propose("complete", *self._complete_args(c)) for c in valid))
            )
        except ProposalFailed as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"{exc}; retry with the same request_ids")
        out = []
        for problem in problems:
            if problem:
                out.append(pb.CompleteTaskResponse(accepted=False, reason=f"invalid: {problem}"))
            else:
                res = next(results)
                out.append(pb.CompleteTaskResponse(accepted=res.accepted, reason=res.reason))
        return pb.CompleteTasksResponse(results=out)

    # ---- cluster -------------------------------------------------------------------------------------
    async def ClusterStatus(
        self, request: pb.ClusterStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.ClusterStatusResponse:
        h = health_snapshot(self.cfg, self.node)
        return pb.ClusterStatusResponse(
            node_id=h["node_id"],
            cloud=h["cloud"],
            role=h["role"],
            leader=h["leader"],
            leader_grpc=h["leader_grpc"],
            term=h["term"],
            commit_index=h["commit_index"],
            last_applied=h["last_applied"],
            has_quorum=h["has_quorum"],
            peers=[pb.PeerStatus(address=a, connected=c) for a, c in sorted(h["peers"].items())],
            jobs_by_state=h["jobs"],
            active_leases=h["leases"],
            raft_self=h["raft_self"],
        )


def health_snapshot(cfg: NodeConfig, node: RaftNode) -> dict:
    """The /health document (DESIGN.md fields plus jobs and leases); ClusterStatus answers the same."""
    st = node.status()
    counts, leases = node.read(lambda s: (dict(s.counts), len(s.leased)))
    leader_grpc = ""
    if st.leader:
        leader_grpc = f"{parse_hostport(st.leader, 'leader')[0]}:{cfg.grpc_port}"
    return {
        "node_id": cfg.node_id,
        "cloud": cfg.cloud,
        "role": st.role,
        "leader": st.leader,
        "leader_grpc": leader_grpc,
        "term": st.term,
        "commit_index": st.commit_index,
        "last_applied": st.last_applied,
        "has_quorum": st.has_quorum,
        "peers": st.peers,
        "jobs": {s: counts.get(s, 0) for s in STATES},
        "leases": leases,
        "raft_self": cfg.raft_self,
        "grpc_addr": cfg.grpc_addr,
    }
