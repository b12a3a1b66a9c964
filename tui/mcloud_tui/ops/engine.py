"""Async facade of the ops core for the Textual console (``Operations`` in mcloud_tui.app).

Each operation runs the blocking :class:`~mcloud_tui.ops.core.Ops` method on a worker thread
(``asyncio.to_thread``); the sink is called from that thread. ``cancel()`` stops the running operation
at its next safe point (Terraform gets one SIGINT and keeps its state).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import localwan
from .config import TargetConfig
from .core import Ops, PlanSummary
from .events import DeploymentInfo, EventSink, HostLog
from .health import HealthPoller
from .localwan import WanStatus
from .secrets import load_secrets
from .state import load_state

if TYPE_CHECKING:
    from control_plane.client import ControlPlaneClient

    from .pricing import HourlyRate


def rate_for_plan(summary: PlanSummary) -> HourlyRate:
    """$/h of the planned cloud nodes (falls back to the standard CPU on-demand set when unknown)."""
    from .pricing import NodeSpec, load_table

    table = load_table()
    nodes = [
        NodeSpec(
            cloud=c, instance_type=str(n["instance_type"]), spot=bool(n.get("spot")), gpu=bool(n.get("gpu"))
        )
        for c, n in summary.nodes.items()
        if n.get("instance_type")
    ]
    return table.rate_for_nodes(nodes) if len(nodes) == 3 else table.rate_for(gpu=False, spot=False)


class Engine:
    """One target's operations for the console; at most one up/down/smoke at a time."""

    def __init__(self, target: str = "local", state_dir: str | Path | None = None) -> None:
        cfg = TargetConfig.from_env(target)
        if state_dir is not None:
            cfg = dataclasses.replace(cfg, state_dir=Path(state_dir).resolve())
        self.config = cfg
        self.target = cfg.target
        self._current: Ops | None = None
        self._poller: HealthPoller | None = None

    def _ops(self, sink: EventSink, confirm: Callable[[PlanSummary], bool] | None = None) -> Ops:
        ops = Ops(self.target, sink, config=self.config, confirm_plan=confirm)
        self._current = ops
        return ops

    def cancel(self) -> None:
        """Stop the running operation at its next safe point (thread-safe, idempotent)."""
        if self._current is not None:
            self._current.cancel()

    async def up(
        self, sink: EventSink, *, confirm_cost: Callable[[HourlyRate], Awaitable[bool]] | None = None
    ) -> bool:
        loop = asyncio.get_running_loop()

        def confirm(summary: PlanSummary) -> bool:
            if self.target != "cloud" or confirm_cost is None:
                return True
            try:
                rate = rate_for_plan(summary)
            except Exception as exc:  # noqa: BLE001 - a pricing gap must not crash the apply path
                sink(HostLog(None, "ops", f"cost preview unavailable: {exc}", "warning"))
                return False
            return bool(asyncio.run_coroutine_threadsafe(confirm_cost(rate), loop).result())

        ops = self._ops(sink, confirm)
        return await asyncio.to_thread(ops.up)

    async def down(self, sink: EventSink) -> bool:
        return await asyncio.to_thread(self._ops(sink).down)

    async def smoke(self, sink: EventSink) -> bool:
        return await asyncio.to_thread(self._ops(sink).smoke)

    async def status(self, sink: EventSink) -> DeploymentInfo | None:
        """Emit DeploymentInfo + one health sample; the recorded deployment or None."""
        ops = Ops(self.target, sink, config=self.config)
        await asyncio.to_thread(ops.status)
        st = ops.load_state()
        return st.info() if st else None

    def deployment(self) -> DeploymentInfo | None:
        """The recorded deployment (no I/O beyond reading the state file)."""
        st = Ops(self.target, None, config=self.config).load_state()
        return st.info() if st else None

    def start_health(self, sink: EventSink, interval_s: float = 1.0) -> bool:
        """Start polling the recorded deployment; False when nothing is deployed."""
        self.stop_health()
        st = Ops(self.target, None, config=self.config).load_state()
        if st is None or not st.addresses():
            return False
        self._poller = HealthPoller(st.addresses(), sink, interval=interval_s).start()
        return True

    def stop_health(self) -> None:
        if self._poller is not None:
            self._poller.stop()
            self._poller = None

    def wan_status(self) -> WanStatus | None:
        """The WAN emulator of the recorded local deployment, from files only (cheap: the console calls it
        every tick); None on the cloud target or when nothing is deployed."""
        return localwan.status_of(self.config, load_state(self.config.deployment_file))

    async def partition(self, cloud: str) -> WanStatus:
        """Cut ``cloud`` off through the emulator. Raises mcloud_tui.ops.localwan.WanUnavailable (cloud
        target, nothing deployed, WAN off) or WanError (the emulator did not answer), one line each."""
        return await asyncio.to_thread(Ops(self.target, None, config=self.config).partition, cloud)

    async def heal(self, cloud: str | None = None) -> WanStatus:
        """Reconnect ``cloud`` (every cloud when None); same errors as :meth:`partition`."""
        return await asyncio.to_thread(Ops(self.target, None, config=self.config).heal, cloud)

    async def control_plane(self) -> ControlPlaneClient:
        """A client for the recorded deployment's three control-plane nodes (caller closes it)."""
        from control_plane.client import ControlPlaneClient

        from .config import GRPC_PORT

        st = Ops(self.target, None, config=self.config).load_state()
        if st is None or not st.addresses():
            raise RuntimeError(f"nothing deployed on the {self.target} target")
        secrets = load_secrets(self.config.secrets_dir(st.deployment_name))
        endpoints = [f"{ip}:{GRPC_PORT}" for ip in st.addresses().values()]
        return ControlPlaneClient(endpoints, secrets.auth_token)


def engine_from_env(target: str = "local", **_: Any) -> Engine:
    """Factory the console can call; honours MCLOUD_STATE_DIR / MCLOUD_LOCAL_HOSTS."""
    return Engine(target, os.environ.get("MCLOUD_STATE_DIR"))
