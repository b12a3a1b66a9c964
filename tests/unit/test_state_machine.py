"""The replicated state machine on its own: lease semantics and a stateful property test."""

from __future__ import annotations

import pickle

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from control_plane.state import (
    CANCELLED,
    FAILED,
    LEASED,
    MAX_ATTEMPTS,
    PENDING,
    SUCCEEDED,
    TERMINAL,
    JobStore,
)

TTL = 10.0


def submit(store: JobStore, rid: str, cloud: str = "", gpu: bool = False, now: float = 0.0) -> str:
    return store.submit(rid, "noop", "{}", cloud, gpu, now).id


def test_submit_is_idempotent_by_request_id() -> None:
    store = JobStore()
    a = store.submit("r1", "noop", "{}", "", False, 1.0)
    b = store.submit("r1", "noop", "{}", "", False, 2.0)
    assert a.id == b.id
    assert len(store.jobs) == 1


def test_unrenewed_lease_expires_and_is_leased_again_with_a_higher_token() -> None:
    store = JobStore()
    job_id = submit(store, "s")
    [first] = store.lease("l1", "w1", "aws", False, 1, (), TTL, now=0.0)
    assert first.token == 1
    assert store.expire((job_id,), now=TTL - 0.1) == []  # not yet
    assert store.expire((job_id,), now=TTL) == [job_id]
    assert store.jobs[job_id].state == PENDING
    [second] = store.lease("l2", "w2", "gcp", False, 1, (), TTL, now=TTL + 1)
    assert second.job_id == job_id and second.token == 2
    # the first worker comes back late: its token is stale and its completion is ignored
    late = store.complete("c1", "w1", job_id, 1, True, '{"x":1}', "", "", False, TTL + 2)
    assert not late.accepted and "stale token" in late.reason
    ok = store.complete("c2", "w2", job_id, 2, True, '{"x":2}', "", "", False, TTL + 3)
    assert ok.accepted
    job = store.jobs[job_id]
    assert job.state == SUCCEEDED and job.result_json == '{"x":2}' and job.stale_completions == 1


def test_two_completions_of_one_task_count_once() -> None:
    store = JobStore()
    job_id = submit(store, "s")
    [grant] = store.lease("l", "w", "aws", False, 1, (), TTL, 0.0)
    first = store.complete("c1", "w", job_id, grant.token, True, "{}", "", "", False, 1.0)
    second = store.complete("c2", "w", job_id, grant.token, False, "", "boom", "", False, 2.0)
    assert first.accepted and not second.accepted
    job = store.jobs[job_id]
    assert job.state == SUCCEEDED and job.accepted_completions == 1 and job.stale_completions == 1


def test_retried_completion_with_the_same_request_id_is_not_counted_twice() -> None:
    store = JobStore()
    job_id = submit(store, "s")
    [grant] = store.lease("l", "w", "aws", False, 1, (), TTL, 0.0)
    a = store.complete("c1", "w", job_id, grant.token, True, "{}", "", "", False, 1.0)
    b = store.complete("c1", "w", job_id, grant.token, True, "{}", "", "", False, 1.5)
    assert a == b and a.accepted
    assert store.jobs[job_id].stale_completions == 0


def test_renewal_extends_and_stale_or_cancelled_renewals_are_refused() -> None:
    store = JobStore()
    job_id = submit(store, "s")
    [grant] = store.lease("l", "w", "aws", False, 1, (), TTL, 0.0)
    renewed = store.renew("r1", "w", job_id, grant.token, TTL, 8.0)
    assert renewed.ok and renewed.expires_at == 18.0
    assert store.expire((job_id,), now=12.0) == []  # the renewal kept it alive
    assert not store.renew("r2", "w", job_id, grant.token + 1, TTL, 9.0).ok
    store.cancel("x", job_id, 9.5)
    refused = store.renew("r3", "w", job_id, grant.token, TTL, 10.0)
    assert not refused.ok and refused.reason == "cancelled"


def test_placement_by_cloud_and_gpu() -> None:
    store = JobStore()
    gcp_job = submit(store, "a", cloud="gcp")
    gpu_job = submit(store, "b", gpu=True)
    any_job = submit(store, "c")
    assert [g.job_id for g in store.lease("l1", "w-aws", "aws", False, 10, (), TTL, 0.0)] == [any_job]
    assert [g.job_id for g in store.lease("l2", "w-gcp", "gcp", False, 10, (), TTL, 0.0)] == [gcp_job]
    assert store.lease("l3", "w-aws", "aws", False, 10, (), TTL, 0.0) == []
    assert [g.job_id for g in store.lease("l4", "w-azure-gpu", "azure", True, 10, (), TTL, 0.0)] == [gpu_job]


def test_lease_takes_oldest_first_across_queues_and_batches() -> None:
    store = JobStore()
    ids = [submit(store, f"r{i}", cloud="aws" if i % 2 else "") for i in range(6)]
    grants = store.lease("l", "w", "aws", False, 4, (), TTL, 0.0)
    assert [g.job_id for g in grants] == ids[:4]


def test_task_type_filter_leaves_other_types_queued() -> None:
    store = JobStore()
    a = store.submit("a", "sleep", "{}", "", False, 0).id
    b = store.submit("b", "noop", "{}", "", False, 0).id
    assert [g.job_id for g in store.lease("l", "w", "aws", False, 5, ("noop",), TTL, 0)] == [b]
    assert [g.job_id for g in store.lease("l2", "w", "aws", False, 5, (), TTL, 0)] == [a]


def test_release_requeues_at_once() -> None:
    store = JobStore()
    job_id = submit(store, "s")
    [grant] = store.lease("l", "w", "aws", False, 1, (), TTL, 0.0)
    assert store.complete("c", "w", job_id, grant.token, False, "", "", "", True, 1.0).accepted
    assert store.jobs[job_id].state == PENDING
    [again] = store.lease("l2", "w2", "aws", False, 1, (), TTL, 2.0)
    assert again.token == grant.token + 1


def test_a_task_that_keeps_losing_its_worker_fails_after_max_attempts() -> None:
    store = JobStore()
    job_id = submit(store, "s")
    now = 0.0
    for i in range(MAX_ATTEMPTS):
        store.lease(f"l{i}", "w", "aws", False, 1, (), TTL, now)
        now += TTL
        store.expire((job_id,), now)
    job = store.jobs[job_id]
    assert job.state == FAILED and "lease expired" in job.error


def test_store_survives_a_snapshot_round_trip() -> None:
    store = JobStore()
    submit(store, "a")
    store.lease("l", "w", "aws", False, 1, (), TTL, 0.0)
    copy = pickle.loads(pickle.dumps(store))
    assert copy == store


# ---- stateful property test ----------------------------------------------------------------------------
class QueueMachine(RuleBasedStateMachine):
    """Random interleavings of every command; the invariants are the queue's promises."""

    jobs = Bundle("jobs")

    def __init__(self) -> None:
        super().__init__()
        self.store = JobStore()
        self.now = 0.0
        self.acknowledged: set[str] = set()
        self.tokens_seen: dict[str, int] = {}
        self.granted: list[tuple[str, int, str]] = []  # (job, token, worker)
        self.rid = 0

    def _rid(self) -> str:
        self.rid += 1
        return f"r{self.rid}"

    @rule(target=jobs, cloud=st.sampled_from(["", "aws", "gcp"]), gpu=st.booleans())
    def submit(self, cloud: str, gpu: bool) -> str:
        job = self.store.submit(self._rid(), "noop", "{}", cloud, gpu, self.now)
        self.acknowledged.add(job.id)
        return job.id

    @rule(worker=st.sampled_from(["w-aws", "w-gcp", "w-gpu"]), n=st.integers(1, 4))
    def lease(self, worker: str, n: int) -> None:
        cloud = {"w-aws": "aws", "w-gcp": "gcp", "w-gpu": "aws"}[worker]
        for g in self.store.lease(self._rid(), worker, cloud, worker == "w-gpu", n, (), TTL, self.now):
            assert g.token > self.tokens_seen.get(g.job_id, 0), "tokens only grow"
            self.tokens_seen[g.job_id] = g.token
            self.granted.append((g.job_id, g.token, worker))

    @precondition(lambda self: self.granted)
    @rule(i=st.integers(0, 1000))
    def renew(self, i: int) -> None:
        job_id, token, worker = self.granted[i % len(self.granted)]
        self.store.renew(self._rid(), worker, job_id, token, TTL, self.now)

    @precondition(lambda self: self.granted)
    @rule(i=st.integers(0, 1000), success=st.booleans(), release=st.booleans(), retry=st.booleans())
    def complete(self, i: int, success: bool, release: bool, retry: bool) -> None:
        job_id, token, worker = self.granted[i % len(self.granted)]
        rid = self._rid()
        first = self.store.complete(rid, worker, job_id, token, success, "{}", "e", "", release, self.now)
        if retry:  # the same request delivered twice
            assert (
                self.store.complete(rid, worker, job_id, token, success, "{}", "e", "", release, self.now)
                == first
            )

    @rule(job_id=jobs)
    def cancel(self, job_id: str) -> None:
        self.store.cancel(self._rid(), job_id, self.now)

    @rule(dt=st.floats(0.0, 2 * TTL))
    def tick_and_expire(self, dt: float) -> None:
        self.now += dt
        self.store.expire(self.store.expired_leases(self.now), self.now)

    @invariant()
    def no_job_lost(self) -> None:
        assert self.acknowledged <= set(self.store.jobs)

    @invariant()
    def at_most_one_accepted_completion(self) -> None:
        for job in self.store.jobs.values():
            assert job.accepted_completions <= 1
            if job.state in (SUCCEEDED,):
                assert job.accepted_completions == 1

    @invariant()
    def counts_and_leases_agree_with_jobs(self) -> None:
        by_state: dict[str, int] = {}
        for job in self.store.jobs.values():
            by_state[job.state] = by_state.get(job.state, 0) + 1
            assert (job.id in self.store.leased) == (job.state == LEASED)
        for state, count in self.store.counts.items():
            assert by_state.get(state, 0) == count

    @invariant()
    def every_pending_job_is_leasable(self) -> None:
        queued = {job_id for heap in self.store.queues.values() for _, job_id in heap}
        for job in self.store.jobs.values():
            if job.state == PENDING:
                assert job.id in queued, f"{job.id} is pending but in no queue"
            assert job.state in (PENDING, LEASED) or job.state in TERMINAL or job.state == CANCELLED


QueueMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)
TestQueueMachine = QueueMachine.TestCase
