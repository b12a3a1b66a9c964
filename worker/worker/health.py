"""The worker's /health (JSON, CONTRACTS.md) and /metrics (Prometheus) on HEALTH_ADDR.

The HTTP server is the control plane's tiny asyncio one (control_plane.http_server); this module only
defines what the worker reports.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from control_plane.http_server import Response, serve_http

if TYPE_CHECKING:
    from worker.runtime import WorkerRuntime


class WorkerMetrics:
    """Prometheus series of one worker (its own registry, so tests can run many workers in a process)."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.tasks = Counter(
            "mcloud_worker_tasks_total", "Tasks finished by outcome", ["type", "outcome"], registry=r
        )
        self.task_seconds = Histogram(
            "mcloud_worker_task_seconds",
            "Wall time of a task's run()",
            ["type"],
            buckets=(0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=r,
        )
        self.leased = Counter("mcloud_worker_leases_total", "Leases received", registry=r)
        self.renewals = Counter(
            "mcloud_worker_renewals_total", "Lease renewals by result", ["result"], registry=r
        )
        self.released = Counter("mcloud_worker_released_total", "Leases handed back unfinished", registry=r)
        self.rejected = Counter(
            "mcloud_worker_completions_rejected_total",
            "Completions the control plane did not accept",
            registry=r,
        )
        self.cp_connected = Gauge(
            "mcloud_worker_cp_connected", "1 when the last control-plane call worked", registry=r
        )
        self.storage_ok = Gauge(
            "mcloud_worker_storage_ok", "1 when storage answered the last probe", registry=r
        )
        self.running = Gauge("mcloud_worker_running_tasks", "Tasks running now", registry=r)
        self.held = Gauge("mcloud_worker_held_leases", "Leases held now (running or queued)", registry=r)

    def render(self) -> str:
        """The Prometheus text exposition."""
        return generate_latest(self.registry).decode()


async def start_health_server(runtime: WorkerRuntime, host: str, port: int) -> asyncio.Server:
    """Serve GET /health and GET /metrics for ``runtime``; returns the started server."""

    async def health() -> Response:
        return Response.json(runtime.health())

    async def metrics() -> Response:
        runtime.refresh_gauges()
        return Response.text(runtime.metrics.render())

    return await serve_http(host, port, {"/health": health, "/metrics": metrics, "/healthz": health})
