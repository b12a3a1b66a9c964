"""UI-free orchestration core of mcloud (never imports Textual).

Front ends (the Textual console, ``mcloud-tui --headless``, the Makefile through headless) use:

    from mcloud_tui.ops import Ops, events
    ops = Ops("local", sink)          # sink(event) gets every typed event (thread-safe sink required)
    ops.up() / ops.down() / ops.smoke() / ops.status()   # blocking, bool; run on a worker thread
    ops.cancel()                      # from any thread: stop the running operation at a safe point
    ops.load_state()                  # recorded deployment (target, hosts, provisioned_at) or None
    HealthPoller(addresses, sink).start() / .stop()      # HostHealth + LeaderChanged events

Events: see :mod:`mcloud_tui.ops.events`. Settings: MCLOUD_STATE_DIR, MCLOUD_LOCAL_HOSTS,
MCLOUD_DEPLOYMENT, MCLOUD_TERRAFORM, MCLOUD_VERIFY_TIMEOUT (see :mod:`mcloud_tui.ops.config`).
Submodules are imported lazily so ``from mcloud_tui.ops import events`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import Ops
    from .health import HealthPoller

__all__ = ["HealthPoller", "Ops"]


def __getattr__(name: str) -> Any:
    if name == "Ops":
        from .core import Ops

        return Ops
    if name == "HealthPoller":
        from .health import HealthPoller

        return HealthPoller
    raise AttributeError(name)
