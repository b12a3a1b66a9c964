"""Prometheus metrics of a control-plane node: Raft role/term/commit, jobs by state, leases, RPC latency."""

from __future__ import annotations

import time

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from .state import STATES


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.role = Gauge("mcloud_raft_role", "1 for the role this node is in", ["role"], registry=r)
        self.term = Gauge("mcloud_raft_term", "Current Raft term", registry=r)
        self.commit_index = Gauge("mcloud_raft_commit_index", "Raft commit index", registry=r)
        self.last_applied = Gauge("mcloud_raft_last_applied", "Last applied Raft index", registry=r)
        self.has_quorum = Gauge("mcloud_raft_has_quorum", "1 when this node sees a quorum", registry=r)
        self.jobs = Gauge("mcloud_jobs", "Jobs by state", ["state"], registry=r)
        self.leases = Gauge("mcloud_leases_active", "Tasks currently leased", registry=r)
        self.stale = Gauge("mcloud_stale_completions_total", "Completions recorded and ignored", registry=r)
        self.expired = Gauge("mcloud_expired_leases_total", "Leases that expired", registry=r)
        self.rpc = Histogram(
            "mcloud_rpc_duration_seconds",
            "gRPC handler latency",
            ["method", "code"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.proposals_failed = Counter(
            "mcloud_raft_proposals_failed_total", "Raft proposals not confirmed", ["reason"], registry=r
        )

    def update(self, status, counts: dict[str, int], leases: int, stale: int, expired: int) -> None:  # type: ignore[no-untyped-def]
        for role in ("leader", "follower", "candidate"):
            self.role.labels(role).set(1 if status.role == role else 0)
        self.term.set(status.term)
        self.commit_index.set(status.commit_index)
        self.last_applied.set(status.last_applied)
        self.has_quorum.set(1 if status.has_quorum else 0)
        for state in STATES:
            self.jobs.labels(state).set(counts.get(state, 0))
        self.leases.set(leases)
        self.stale.set(stale)
        self.expired.set(expired)

    def render(self) -> str:
        return generate_latest(self.registry).decode()


class LatencyInterceptor(grpc.aio.ServerInterceptor):
    """Times unary handlers into `mcloud_rpc_duration_seconds`."""

    def __init__(self, metrics: NodeMetrics) -> None:
        self.metrics = metrics
        self._handlers: dict[str, grpc.RpcMethodHandler | None] = {}  # one timed handler per method

    async def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        method = handler_call_details.method
        if method not in self._handlers:
            self._handlers[method] = self._timed(method, await continuation(handler_call_details))
        return self._handlers[method]

    def _timed(self, method: str, handler: grpc.RpcMethodHandler | None) -> grpc.RpcMethodHandler | None:
        if handler is None or not handler.unary_unary:
            return handler
        name = method.rsplit("/", 1)[-1]
        inner = handler.unary_unary
        ok = self.metrics.rpc.labels(name, "OK")
        error = self.metrics.rpc.labels(name, "ERROR")

        async def timed(request, context):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                result = await inner(request, context)
            except BaseException:
                error.observe(time.perf_counter() - start)
                raise
            ok.observe(time.perf_counter() - start)
            return result

        return grpc.unary_unary_rpc_method_handler(
            timed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
