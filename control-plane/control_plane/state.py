"""The replicated job/task state machine.

Pure and deterministic on purpose: every node applies the same commands in the same order and must end
in the same state, so nothing here reads a clock, a random source or the environment. The proposer puts
`now` and a client `request_id` into every command; a command whose request id was already applied
returns the first answer again, which makes client retries (after a leader change, a timeout, a lost
reply) safe.

Each job has exactly one task, leased by id. A lease carries a fencing token (the attempt number): a
renewal or completion must present the current token, so a worker that lost its lease cannot overwrite
the work of the one that holds it now.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import OrderedDict
from dataclasses import dataclass, field

PENDING = "PENDING"
LEASED = "LEASED"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
STATES = (PENDING, LEASED, SUCCEEDED, FAILED, CANCELLED)
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED})

#: After this many expired leases a job fails instead of being queued again: a task that kills every
#: worker that runs it must not cycle forever.
MAX_ATTEMPTS = 5
#: How many request ids are remembered for deduplication. Retries arrive within seconds; this bounds memory.
DEDUP_WINDOW = 200_000


@dataclass
class Job:
    """One job and the state of its (single) task."""

    id: str
    seq: int
    type: str
    payload_json: str
    cloud: str
    gpu: bool
    request_id: str
    created_at: float
    state: str = PENDING
    attempt: int = 0
    worker_id: str = ""
    worker_cloud: str = ""
    started_at: float = 0.0
    finished_at: float = 0.0
    lease_expires_at: float = 0.0
    result_json: str = ""
    error: str = ""
    artifact_uri: str = ""
    stale_completions: int = 0
    accepted_completions: int = 0

    def copy(self) -> Job:
        return dataclasses.replace(self)


@dataclass(frozen=True)
class LeaseGrant:
    job_id: str
    type: str
    payload_json: str
    token: int
    expires_at: float
    ttl: float


@dataclass(frozen=True)
class RenewResult:
    ok: bool
    expires_at: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class CompleteResult:
    accepted: bool
    reason: str = ""


def _bucket(cloud: str, gpu: bool) -> tuple[str, bool]:
    return (cloud, gpu)


@dataclass
class JobStore:
    """All jobs, the pending queues and the dedup window. Mutated only through the command methods."""

    jobs: dict[str, Job] = field(default_factory=dict)
    # pending jobs by placement (cloud or "" for any, gpu); heaps of (seq, job_id), lazily cleaned
    queues: dict[tuple[str, bool], list[tuple[int, str]]] = field(default_factory=dict)
    leased: dict[str, float] = field(default_factory=dict)  # job id -> lease expiry
    counts: dict[str, int] = field(default_factory=lambda: {s: 0 for s in STATES})
    seq: int = 0
    applied: OrderedDict[str, object] = field(default_factory=OrderedDict)
    stale_total: int = 0
    expired_total: int = 0

    # ---- helpers -------------------------------------------------------------------------------------
    def _remember(self, request_id: str, result: object) -> object:
        if request_id:
            self.applied[request_id] = result
            if len(self.applied) > DEDUP_WINDOW:
                self.applied.popitem(last=False)
        return result

    def _set_state(self, job: Job, state: str) -> None:
        self.counts[job.state] -= 1
        self.counts[state] += 1
        job.state = state
        if state != LEASED:
            self.leased.pop(job.id, None)

    def _enqueue(self, job: Job) -> None:
        heapq.heappush(self.queues.setdefault(_bucket(job.cloud, job.gpu), []), (job.seq, job.id))

    def _peek(self, key: tuple[str, bool], task_types: frozenset[str]) -> tuple[int, str] | None:
        """Oldest pending job in one queue (dropping stale heap entries on the way)."""
        heap = self.queues.get(key)
        if not heap:
            return None
        skipped: list[tuple[int, str]] = []
        found = None
        while heap:
            seq, job_id = heap[0]
            job = self.jobs.get(job_id)
            if job is None or job.state != PENDING or job.seq != seq:
                heapq.heappop(heap)
                continue
            if task_types and job.type not in task_types:
                skipped.append(heapq.heappop(heap))
                continue
            found = (seq, job_id)
            break
        for item in skipped:
            heapq.heappush(heap, item)
        return found

    # ---- commands ------------------------------------------------------------------------------------
    def submit(
        self, request_id: str, type_: str, payload_json: str, cloud: str, gpu: bool, now: float
    ) -> Job:
        """Queue a job; the same request id returns the job created the first time."""
        if request_id and request_id in self.applied:
            return self.jobs[self.applied[request_id]].copy()  # type: ignore[index]
        self.seq += 1
        job = Job(
            id=f"job-{self.seq}",
            seq=self.seq,
            type=type_,
            payload_json=payload_json,
            cloud=cloud,
            gpu=gpu,
            request_id=request_id,
            created_at=now,
        )
        self.jobs[job.id] = job
        self.counts[PENDING] += 1
        self._enqueue(job)
        self._remember(request_id, job.id)
        return job.copy()

    def lease(
        self,
        request_id: str,
        worker_id: str,
        worker_cloud: str,
        worker_gpu: bool,
        max_tasks: int,
        task_types: tuple[str, ...],
        ttl: float,
        now: float,
    ) -> list[LeaseGrant]:
        """Lease up to `max_tasks` of the oldest pending jobs this worker may run.

        A worker may run jobs placed on its cloud or on no cloud; a GPU worker also takes GPU jobs, a CPU
        worker never does.
        """
        if request_id and request_id in self.applied:
            return list(self.applied[request_id])  # type: ignore[call-overload]
        keys = [_bucket(worker_cloud, False), _bucket("", False)]
        if worker_gpu:
            keys += [_bucket(worker_cloud, True), _bucket("", True)]
        types = frozenset(task_types)
        grants: list[LeaseGrant] = []
        while len(grants) < max(1, max_tasks):
            best: tuple[int, str, tuple[str, bool]] | None = None
            for key in keys:
                top = self._peek(key, types)
                if top is not None and (best is None or top[0] < best[0]):
                    best = (top[0], top[1], key)
            if best is None:
                break
            _, job_id, key = best
            heap = self.queues[key]
            if heap and heap[0][1] == job_id:
                heapq.heappop(heap)
            else:  # the job sat behind skipped types: remove it explicitly
                heap.remove((best[0], job_id))
                heapq.heapify(heap)
            job = self.jobs[job_id]
            job.attempt += 1
            job.worker_id = worker_id
            job.worker_cloud = worker_cloud
            job.started_at = now
            job.lease_expires_at = now + ttl
            self._set_state(job, LEASED)
            self.leased[job.id] = job.lease_expires_at
            grants.append(
                LeaseGrant(job.id, job.type, job.payload_json, job.attempt, job.lease_expires_at, ttl)
            )
        self._remember(request_id, tuple(grants))
        return grants

    def renew(
        self, request_id: str, worker_id: str, job_id: str, token: int, ttl: float, now: float
    ) -> RenewResult:
        if request_id and request_id in self.applied:
            return self.applied[request_id]  # type: ignore[return-value]
        job = self.jobs.get(job_id)
        if job is None:
            result = RenewResult(False, reason="unknown job")
        elif job.state == CANCELLED:
            result = RenewResult(False, reason="cancelled")
        elif job.state in TERMINAL:
            result = RenewResult(False, reason=f"job already {job.state.lower()}")
        elif token != job.attempt:
            result = RenewResult(False, reason=f"stale token {token} (current {job.attempt})")
        elif job.state != LEASED:
            result = RenewResult(False, reason="lease expired")
        else:
            job.lease_expires_at = now + ttl
            self.leased[job.id] = job.lease_expires_at
            result = RenewResult(True, expires_at=job.lease_expires_at)
        return self._remember(request_id, result)  # type: ignore[return-value]

    def complete(
        self,
        request_id: str,
        worker_id: str,
        job_id: str,
        token: int,
        success: bool,
        result_json: str,
        error: str,
        artifact_uri: str,
        release: bool,
        now: float,
    ) -> CompleteResult:
        """Record a task's outcome. The first completion with the current token wins; any other is counted
        as stale and ignored. A completion after the lease expired is still accepted while nobody else
        holds the task (same token): the work is done, throwing it away helps no one."""
        if request_id and request_id in self.applied:
            return self.applied[request_id]  # type: ignore[return-value]
        job = self.jobs.get(job_id)
        if job is None:
            result = CompleteResult(False, "unknown job")
        elif job.state in TERMINAL:
            job.stale_completions += 1
            self.stale_total += 1
            result = CompleteResult(False, f"job already {job.state.lower()}")
        elif token != job.attempt or job.attempt == 0:
            job.stale_completions += 1
            self.stale_total += 1
            result = CompleteResult(False, f"stale token {token} (current {job.attempt})")
        elif release:
            if job.state == LEASED:
                self._set_state(job, PENDING)
                self._enqueue(job)
            result = CompleteResult(True, "released")
        else:
            # (a PENDING job, expired but not leased again, leaves its queue lazily once its state changes)
            job.accepted_completions += 1
            job.finished_at = now
            job.result_json = result_json if success else ""
            job.error = "" if success else (error or "task failed")
            job.artifact_uri = artifact_uri
            self._set_state(job, SUCCEEDED if success else FAILED)
            result = CompleteResult(True)
        return self._remember(request_id, result)  # type: ignore[return-value]

    def cancel(self, request_id: str, job_id: str, now: float) -> Job | None:
        if request_id and request_id in self.applied:
            job = self.jobs.get(job_id)
            return job.copy() if job else None
        job = self.jobs.get(job_id)
        if job is None:
            return None
        if job.state not in TERMINAL:
            job.finished_at = now
            self._set_state(job, CANCELLED)
        self._remember(request_id, job_id)
        return job.copy()

    def expire(self, job_ids: tuple[str, ...], now: float) -> list[str]:
        """Return expired leases to the queue (proposed by the leader only; re-checked here against `now`)."""
        expired = []
        for job_id in job_ids:
            job = self.jobs.get(job_id)
            if job is None or job.state != LEASED or job.lease_expires_at > now:
                continue
            self.expired_total += 1
            expired.append(job_id)
            if job.attempt >= MAX_ATTEMPTS:
                job.finished_at = now
                job.error = f"lease expired {job.attempt} times: no worker finished this task"
                self._set_state(job, FAILED)
            else:
                self._set_state(job, PENDING)
                self._enqueue(job)
        return expired

    # ---- reads ---------------------------------------------------------------------------------------
    def expired_leases(self, now: float) -> tuple[str, ...]:
        return tuple(job_id for job_id, expires in self.leased.items() if expires <= now)
