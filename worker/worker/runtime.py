"""The worker's lease loop: lease, run, renew, complete; and a clean stop on SIGTERM.

* One long-poll ``LeaseTasks(max_tasks=1)`` of any type; when that task is cheap (noop) the batch is topped
  up with ``max_tasks=LEASE_BATCH-1, task_types=<cheap types>, wait_ms=0``, so cheap work flows in batches
  while slow work is never hoarded by one worker.
* Cheap tasks run inline and their completions are sent concurrently (bounded); slow tasks run one at a time
  in a thread (``asyncio.to_thread``) so the event loop keeps renewing every lease held at ttl/3.
* A renewal the control plane refuses (cancelled, stale token) sets the task's cancel event; the outcome is
  still offered and the control plane keeps the first valid completion only.
* SIGTERM: stop leasing, hand back (``release``) leases not started, give the running task STOP_GRACE_S to
  finish, then cancel it and hand its lease back: nothing waits a TTL for a dead worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from control_plane.client import ControlPlaneClient, ControlPlaneError
from control_plane.proto import mcloud_pb2 as pb
from worker.config import WorkerConfig
from worker.health import WorkerMetrics, start_health_server
from worker.storage import Storage
from worker.tasks import TaskCancelled, TaskContext, TaskSpec, cheap_task_types, get_task

log = logging.getLogger("worker")

VERSION = "0.1.0"
MAX_INFLIGHT_COMPLETIONS = 256
MAX_COMPLETION_BATCH = 256
STORAGE_PROBE_S = 10.0


@dataclass
class Held:
    """A lease this worker holds, from LeaseTasks until it is completed, released or lost."""

    lease: pb.Lease
    received: float = field(default_factory=time.monotonic)
    last_renewed: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)
    started: bool = False
    lost: str = ""  # why the control plane refused a renewal ("" = still ours)
    handed_back: bool = False

    @property
    def ttl(self) -> float:
        return max(self.lease.ttl_ms / 1000.0, 0.2)

    @property
    def job_id(self) -> str:
        return self.lease.job_id


def resolve_device(gpu: str) -> str:
    """ "cuda" or "cpu" for WORKER_GPU (auto | true | false); raises when a GPU is demanded but absent."""
    if gpu == "false":
        return "cpu"
    import torch

    has = torch.cuda.is_available()
    if gpu == "true" and not has:
        raise RuntimeError("WORKER_GPU=true but torch sees no CUDA device")
    return "cuda" if has else "cpu"


def error_text(exc: BaseException) -> str:
    """The error reported for a failed task: a ValueError's message as is (it names the field), else the type."""
    if isinstance(exc, ValueError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "out of memory while running the task"
    return f"{type(exc).__name__}: {exc}"


class WorkerRuntime:
    """One worker process's state and loops (see the module docstring)."""

    def __init__(
        self,
        cfg: WorkerConfig,
        *,
        client: ControlPlaneClient | None = None,
        storage: Storage | None = None,
        device: str | None = None,
    ) -> None:
        self.cfg = cfg
        self.client = client or ControlPlaneClient(
            list(cfg.cp_endpoints), cfg.auth_token, ca_cert=cfg.tls_ca, retry_deadline=cfg.cp_retry_s
        )
        self.storage = storage if storage is not None else (Storage(cfg.storage) if cfg.storage else None)
        self.device = device or resolve_device(cfg.gpu)
        self.metrics = WorkerMetrics()
        self.state = "idle"
        self.held: dict[str, Held] = {}
        self.current: Held | None = None
        self.completed = 0
        self.failed = 0
        self.storage_ok = False
        self.started_at = time.time()
        self._stop = asyncio.Event()
        self._inflight = asyncio.Semaphore(MAX_INFLIGHT_COMPLETIONS)
        self._bg: set[asyncio.Task[Any]] = set()
        self._batch: list[tuple[Held, str, pb.CompleteTaskRequest]] = []
        self._flusher: asyncio.Task[Any] | None = None
        self._cheap = cheap_task_types()
        self.health_server: asyncio.Server | None = None
        # slow tasks run here, one at a time; not the loop's default executor, so a stop never waits on it
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="task")
        self._task_future: asyncio.Future[Any] | Future[Any] | None = None

    @property
    def task_thread_busy(self) -> bool:
        """True while a slow task is still computing in its thread (even after its lease was handed back)."""
        return self._task_future is not None and not self._task_future.done()

    # ---- reporting -------------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """The /health JSON (CONTRACTS.md fields first, a few extras after)."""
        return {
            "worker_id": self.cfg.worker_id,
            "cloud": self.cfg.cloud,
            "device": self.device,
            "state": self.state,
            "cp_endpoint": self.client.current_endpoint,
            "cp_connected": bool(self.client.connected),
            "storage_ok": self.storage_ok,
            "storage_endpoint": self.storage.endpoint if self.storage else "",
            "current_task": self.current.job_id if self.current else None,
            "completed": self.completed,
            "failed": self.failed,
            "held_leases": len(self.held),
            "version": VERSION,
            "uptime_s": round(time.time() - self.started_at, 1),
        }

    def refresh_gauges(self) -> None:
        """Bring the gauges up to date before a scrape."""
        self.metrics.cp_connected.set(1 if self.client.connected else 0)
        self.metrics.storage_ok.set(1 if self.storage_ok else 0)
        self.metrics.running.set(1 if self.current else 0)
        self.metrics.held.set(len(self.held))

    # ---- lifecycle -------------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Begin a graceful stop (the SIGTERM handler calls this)."""
        if not self._stop.is_set():
            log.info(
                "worker %s: stopping (no new leases; grace %.0fs)", self.cfg.worker_id, self.cfg.stop_grace_s
            )
            self.state = "stopping"
            self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def start_health(self) -> None:
        """Bind HEALTH_ADDR (a failure here stops the worker at start)."""
        self.health_server = await start_health_server(self, self.cfg.health_host, self.cfg.health_port)

    async def run(self) -> None:
        """Serve until :meth:`request_stop`; returns after the clean stop."""
        if self.health_server is None:
            await self.start_health()
        log.info(
            "worker %s: cloud %s, device %s, control plane %s, storage %s",
            self.cfg.worker_id,
            self.cfg.cloud,
            self.device,
            ",".join(self.cfg.cp_endpoints),
            self.storage.endpoint if self.storage else "none",
        )
        loops = [
            asyncio.create_task(self._lease_loop(), name="lease"),
            asyncio.create_task(self._renew_loop(), name="renew"),
            asyncio.create_task(self._storage_loop(), name="storage"),
        ]
        try:
            await self._stop.wait()
            await self._drain(loops[0])
        finally:
            for t in loops:
                t.cancel()
            for t in loops:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            if self.health_server is not None:
                self.health_server.close()
            self._executor.shutdown(wait=False, cancel_futures=True)
            await self.client.close()
            log.info(
                "worker %s: stopped (completed %d, failed %d)",
                self.cfg.worker_id,
                self.completed,
                self.failed,
            )

    async def _drain(self, lease_loop: asyncio.Task[Any]) -> None:
        """Stop sequence: let the lease loop finish its call, then the running task, then hand back the rest."""
        grace_end = time.monotonic() + self.cfg.stop_grace_s
        done, _ = await asyncio.wait({lease_loop}, timeout=max(0.0, grace_end - time.monotonic()))
        if not done:
            current = self.current
            if current is not None:
                log.warning(
                    "worker %s: task %s still running after %.0fs grace: cancelling it and handing its lease back",
                    self.cfg.worker_id,
                    current.job_id,
                    self.cfg.stop_grace_s,
                )
                current.cancel.set()
            lease_loop.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await lease_loop
        # completions already under way get a short while to land
        if self._bg:
            await asyncio.wait(set(self._bg), timeout=max(2.0, grace_end - time.monotonic()))
        leftover = [h for h in self.held.values() if not h.handed_back]
        if leftover:
            await asyncio.gather(*(self._release(h) for h in leftover), return_exceptions=True)

    # ---- leasing ---------------------------------------------------------------------------------------
    async def _lease(
        self, max_tasks: int, wait_ms: int, task_types: list[str] | tuple[str, ...] = ()
    ) -> list[pb.Lease]:
        leases = await self.client.lease_tasks(
            self.cfg.worker_id,
            self.cfg.cloud,
            self.device == "cuda",
            max_tasks=max_tasks,
            wait_ms=wait_ms,
            task_types=task_types,
        )
        if leases:
            self.metrics.leased.inc(len(leases))
            for lease in leases:
                self.held[lease.job_id] = Held(lease)
        return leases

    async def _lease_loop(self) -> None:
        backoff = 0.2
        while not self.stopping:
            try:
                await self._inflight.acquire()  # do not lease more while completions back up
                self._inflight.release()
                leases = await self._lease(1, self.cfg.lease_wait_ms)
                if (
                    leases
                    and self.cfg.lease_batch > 1
                    and leases[0].type in self._cheap
                    and not self.stopping
                ):
                    try:
                        leases += await self._lease(self.cfg.lease_batch - 1, 0, self._cheap)
                    except ControlPlaneError as exc:  # the first lease is held: run it, never strand it
                        log.warning("worker %s: topping up the batch failed: %s", self.cfg.worker_id, exc)
                backoff = 0.2
            except ControlPlaneError as exc:
                log.warning("worker %s: lease failed: %s", self.cfg.worker_id, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            for i, lease in enumerate(leases):
                if self.stopping:
                    rest = [self.held[x.job_id] for x in leases[i:] if x.job_id in self.held]
                    await asyncio.gather(*(self._release(h) for h in rest), return_exceptions=True)
                    break
                await self._handle(self.held[lease.job_id])

    async def _handle(self, held: Held) -> None:
        lease = held.lease
        held.started = True
        t0 = time.perf_counter()
        try:
            spec = get_task(lease.type)
            try:
                payload = json.loads(lease.payload_json) if lease.payload_json else {}
            except json.JSONDecodeError as exc:
                raise ValueError(f"payload is not valid JSON: {exc.msg}") from None
            if not isinstance(payload, dict):
                raise ValueError(f"payload must be a JSON object, got {type(payload).__name__}")
        except ValueError as exc:
            await self._finish(held, "unknown", None, exc, t0, background=True)
            return
        ctx = TaskContext(job_id=lease.job_id, storage=self.storage, device=self.device, cancel=held.cancel)
        if spec.cheap:
            result, exc = self._run_inline(spec, payload, ctx)
            await self._finish(held, spec.name, result, exc, t0, background=True)
            return
        self.current = held
        self.state = "running" if not self.stopping else "stopping"
        log.info(
            "worker %s: running %s %s (attempt %d)", self.cfg.worker_id, spec.name, lease.job_id, lease.token
        )
        try:
            fut = asyncio.get_running_loop().run_in_executor(
                self._executor, self._run_inline, spec, payload, ctx
            )
            self._task_future = fut
            result, exc = await fut
        finally:
            self.current = None
            if not self.stopping:
                self.state = "idle"
        await self._finish(held, spec.name, result, exc, t0, background=False)

    @staticmethod
    def _run_inline(
        spec: TaskSpec, payload: dict[str, Any], ctx: TaskContext
    ) -> tuple[dict[str, Any] | None, BaseException | None]:
        try:
            return spec.run(payload, ctx), None
        except Exception as exc:  # a task's failure is its job's failure, never the worker's
            return None, exc

    async def _finish(
        self,
        held: Held,
        type_name: str,
        result: dict[str, Any] | None,
        exc: BaseException | None,
        t0: float,
        *,
        background: bool,
    ) -> None:
        self.metrics.task_seconds.labels(type_name).observe(time.perf_counter() - t0)
        if isinstance(exc, TaskCancelled):
            why = held.lost or "worker stopping"
            log.info("worker %s: task %s cancelled (%s)", self.cfg.worker_id, held.job_id, why)
            self.metrics.tasks.labels(type_name, "cancelled").inc()
            if not held.lost:
                await self._release(held)
            else:
                self.held.pop(held.job_id, None)
            return
        if exc is not None:
            log.info("worker %s: task %s failed: %s", self.cfg.worker_id, held.job_id, error_text(exc))
        if not background:
            await self._complete(held, type_name, result, exc)
            return
        await self._inflight.acquire()
        if getattr(self.client, "complete_tasks", None) is not None:
            # many completions in one RPC (one Raft entry): what makes cheap tasks fast
            self._batch.append((held, type_name, self._request(held, result, exc)))
            if self._flusher is None or self._flusher.done():
                self._flusher = self._spawn(self._flush_batches())
            return
        task = self._spawn(self._complete(held, type_name, result, exc))
        task.add_done_callback(lambda _t: self._inflight.release())

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._bg.add(task)
        task.add_done_callback(self._bg.discard)
        return task

    def _request(
        self, held: Held, result: dict[str, Any] | None, exc: BaseException | None
    ) -> pb.CompleteTaskRequest:
        success = exc is None
        return pb.CompleteTaskRequest(
            worker_id=self.cfg.worker_id,
            job_id=held.job_id,
            token=held.lease.token,
            success=success,
            result_json=json.dumps(result) if success and result is not None else "",
            error="" if success else error_text(exc),  # type: ignore[arg-type]
            artifact_uri=str((result or {}).get("artifact_uri", "")) if success else "",
        )

    async def _flush_batches(self) -> None:
        await asyncio.sleep(0)  # let the rest of the current lease batch queue up first
        while self._batch:
            items, self._batch = self._batch[:MAX_COMPLETION_BATCH], self._batch[MAX_COMPLETION_BATCH:]
            try:
                resps = await self.client.complete_tasks([req for _, _, req in items])  # type: ignore[attr-defined]
            except ControlPlaneError as exc:
                log.error("worker %s: could not report %d tasks: %s", self.cfg.worker_id, len(items), exc)
                resps = [None] * len(items)
            for (held, type_name, req), resp in zip(items, resps, strict=True):
                self._record(held, type_name, req.success, resp)
                self._inflight.release()

    async def _complete(
        self, held: Held, type_name: str, result: dict[str, Any] | None, exc: BaseException | None
    ) -> None:
        req = self._request(held, result, exc)
        try:
            resp = await self.client.complete_task(
                self.cfg.worker_id,
                held.job_id,
                held.lease.token,
                success=req.success,
                result=result if req.success else None,
                error=req.error,
                artifact_uri=req.artifact_uri,
            )
        except ControlPlaneError as exc2:
            log.error("worker %s: could not report task %s: %s", self.cfg.worker_id, held.job_id, exc2)
            resp = None
        self._record(held, type_name, req.success, resp)

    def _record(
        self, held: Held, type_name: str, success: bool, resp: pb.CompleteTaskResponse | None
    ) -> None:
        """Count one completion's outcome and forget its lease."""
        held.handed_back = True
        self.held.pop(held.job_id, None)
        if resp is None:
            # unreported: the lease will expire and the task run again elsewhere (at-least-once, never lost)
            self.metrics.tasks.labels(type_name, "unreported").inc()
            return
        if not resp.accepted:
            self.metrics.rejected.inc()
            self.metrics.tasks.labels(type_name, "rejected").inc()
            log.info("worker %s: result of %s not accepted: %s", self.cfg.worker_id, held.job_id, resp.reason)
            return
        if success:
            self.completed += 1
            self.metrics.tasks.labels(type_name, "succeeded").inc()
        else:
            self.failed += 1
            self.metrics.tasks.labels(type_name, "failed").inc()

    async def _release(self, held: Held) -> None:
        """Hand a lease back so the job is queued again at once (not after a TTL)."""
        if held.handed_back:
            return
        held.handed_back = True
        held.cancel.set()
        try:
            resp = await self.client.complete_task(
                self.cfg.worker_id, held.job_id, held.lease.token, success=False, release=True
            )
            self.metrics.released.inc()
            log.info("worker %s: handed back %s (%s)", self.cfg.worker_id, held.job_id, resp.reason or "ok")
        except ControlPlaneError as exc:
            log.warning(
                "worker %s: could not hand back %s (it expires after its TTL): %s",
                self.cfg.worker_id,
                held.job_id,
                exc,
            )
        finally:
            self.held.pop(held.job_id, None)

    # ---- renewing --------------------------------------------------------------------------------------
    async def _renew_loop(self) -> None:
        while True:
            now = time.monotonic()
            due = [h for h in self.held.values() if not h.handed_back and now - h.last_renewed >= h.ttl / 3]
            if due:
                await asyncio.gather(*(self._renew(h) for h in due), return_exceptions=True)
            ttls = [h.ttl for h in self.held.values()] or [3.0]
            await asyncio.sleep(max(0.05, min(ttls) / 12))

    async def _renew(self, held: Held) -> None:
        started = time.monotonic()
        try:
            resp = await self.client.renew_lease(self.cfg.worker_id, held.job_id, held.lease.token)
        except ControlPlaneError as exc:
            self.metrics.renewals.labels("error").inc()
            log.warning("worker %s: renewing %s failed: %s", self.cfg.worker_id, held.job_id, exc)
            return
        if resp.ok:
            held.last_renewed = started
            self.metrics.renewals.labels("ok").inc()
            return
        self.metrics.renewals.labels("refused").inc()
        if held.handed_back:
            return
        held.lost = resp.reason or "refused"
        held.last_renewed = started
        log.warning("worker %s: lease on %s refused: %s", self.cfg.worker_id, held.job_id, held.lost)
        if resp.reason == "cancelled" or resp.reason.startswith(("stale", "job already", "unknown")):
            held.cancel.set()  # somebody else owns it now, or nobody wants it: stop working on it

    # ---- storage ---------------------------------------------------------------------------------------
    async def _storage_loop(self) -> None:
        if self.storage is None:
            return
        ensured = False
        while True:
            if not ensured:
                try:
                    await asyncio.to_thread(self.storage.ensure_bucket)
                    ensured = True
                    self.storage_ok = True
                except Exception as exc:
                    self.storage_ok = False
                    log.warning("worker %s: %s", self.cfg.worker_id, exc)
            else:
                self.storage_ok = await asyncio.to_thread(self.storage.check)
            await asyncio.sleep(STORAGE_PROBE_S if self.storage_ok else 2.0)
