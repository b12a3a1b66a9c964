"""The WAN emulator as part of the local target: its process, its ports, partition/heal and its status.

The ops core starts ``python -m mcloud_tui.ops.wan serve`` as a detached procctl service *before* deploy
(the services' env points their cross-cloud traffic at its links: RAFT_ROUTES, CP_ENDPOINTS,
MINIO_ENDPOINT, see roles/pipeline-node env.j2) and the teardown sweep stops it after the services.
It lives next to the hosts' directories, so every safety net that looks there finds it:
``<state>/nodes/<deployment>/wan/run/wan.pid|.spec|wan.json`` and ``.../wan/logs/wan.log``.
Its control endpoint listens on ``<aws host>:8085`` (unique per MCLOUD_LOCAL_HOSTS, so a test's private
deployment never talks to a developer's emulator).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import procctl
from .config import WAN_CONTROL_PORT, ConfigError, TargetConfig
from .state import DeploymentState
from .wan.control import WanControl, WanError, read_state_file
from .wan.topology import CLOUDS, WanConfigError, WanPlan

SERVICE = "wan"
READY_TIMEOUT_S = 15.0


class WanUnavailable(Exception):
    """partition/heal cannot be done here (cloud target, nothing deployed, WAN off); one line says why."""


@dataclass(frozen=True)
class WanStatus:
    """What the console header and the headless commands show about the emulator."""

    enabled: bool  # the deployment was brought up behind the emulator
    running: bool = False  # ... and its process answers / wrote its state file
    rtt_ms: dict[str, float] = field(default_factory=dict)
    partitioned: tuple[str, ...] = ()
    control: str = ""

    @property
    def rtts_text(self) -> str:
        """``10/30/35ms``: RTTs of aws-azure, aws-gcp, gcp-azure (pair names in alphabetical order)."""
        vals = [self.rtt_ms[k] for k in sorted(self.rtt_ms)]
        return "/".join(f"{v:g}" for v in vals) + "ms"

    def line(self) -> str:
        """One line for headless output and logs."""
        if not self.enabled:
            return "wan: off"
        if not self.running:
            return "wan: on, but the emulator is not running (rerun up to restart it)"
        pairs = ", ".join(f"{k} {v:g}" for k, v in self.rtt_ms.items())
        cut = ", ".join(self.partitioned) or "none"
        return f"wan: on, RTT ms {pairs}; partitioned: {cut}"


def wan_dir(cfg: TargetConfig, name: str | None = None) -> Path:
    return cfg.deployment_root(name) / SERVICE


def state_file(cfg: TargetConfig, name: str | None = None) -> Path:
    return wan_dir(cfg, name) / "run" / "wan.json"


def control_address(hosts: dict[str, str]) -> str:
    return f"{hosts['aws']}:{WAN_CONTROL_PORT}"


def plan_for(hosts: dict[str, str]) -> WanPlan:
    """The address plan of these hosts; a ConfigError naming MCLOUD_LOCAL_HOSTS when they do not fit it."""
    try:
        return WanPlan(hosts=dict(hosts))
    except WanConfigError as exc:
        raise ConfigError(f"MCLOUD_LOCAL_HOSTS with the WAN emulator on (MCLOUD_WAN): {exc}") from None


def ports(hosts: dict[str, str]) -> list[tuple[str, int]]:
    """Every address the emulator listens on: each link's Raft/gRPC/S3 port and the control endpoint."""
    out = [(link.listen_host, link.port) for link in plan_for(hosts).links()]
    ctl_host, _, ctl_port = control_address(hosts).rpartition(":")
    return [*out, (ctl_host, int(ctl_port))]


def running(cfg: TargetConfig, name: str | None = None) -> bool:
    return procctl.running_pid(wan_dir(cfg, name), SERVICE) is not None


def start(cfg: TargetConfig, state: DeploymentState) -> procctl.StartResult:
    """Start the emulator for the deployment's hosts and matrix unless it already runs with the same spec
    (a changed matrix restarts it); wait until its control endpoint answers."""
    hosts = state.addresses()
    plan_for(hosts)
    rtt = ",".join(f"{k}={v:g}" for k, v in state.wan_rtt_ms.items())
    control = state.wan_control or control_address(hosts)
    argv = [
        cfg.python, "-m", "mcloud_tui.ops.wan", "--control", control, "serve",
        "--hosts", ",".join(f"{c}={hosts[c]}" for c in CLOUDS),
        "--state-file", str(state_file(cfg, state.deployment_name)),
    ] + (["--rtt", rtt] if rtt else [])  # fmt: skip
    hdir = wan_dir(cfg, state.deployment_name)
    result = procctl.start(
        hdir, SERVICE, argv, overrides={"PYTHONPATH": cfg.python_path()}, ports=ports(hosts)
    )
    procctl.wait_ready(hdir, SERVICE, url=f"http://{control}/state", timeout=READY_TIMEOUT_S)
    return result


def stop(cfg: TargetConfig, name: str | None = None) -> bool:
    """Stop the emulator (True when one ran); it removes its state file on SIGTERM, this makes sure."""
    stopped = procctl.stop(wan_dir(cfg, name), SERVICE)
    state_file(cfg, name).unlink(missing_ok=True)
    return stopped


def status_of(cfg: TargetConfig, state: DeploymentState | None) -> WanStatus | None:
    """From files only (cheap enough for a console tick): None when nothing is deployed or not local."""
    if cfg.target != "local" or state is None:
        return None
    if not state.wan:
        return WanStatus(enabled=False)
    doc = read_state_file(state_file(cfg, state.deployment_name))
    if doc is None or not running(cfg, state.deployment_name):
        return WanStatus(enabled=True, rtt_ms=dict(state.wan_rtt_ms), control=state.wan_control)
    return _from_doc(doc, state.wan_control)


def _from_doc(doc: dict[str, Any], control: str) -> WanStatus:
    return WanStatus(
        enabled=True,
        running=True,
        rtt_ms={str(k): float(v) for k, v in (doc.get("rtt_ms") or {}).items()},
        partitioned=tuple(str(c) for c in doc.get("partitioned") or ()),
        control=control,
    )


def control_for(cfg: TargetConfig, state: DeploymentState | None) -> WanControl:
    """The deployment's emulator control client, or WanUnavailable saying why there is none."""
    if cfg.target != "local":
        raise WanUnavailable("partition/heal need the WAN emulator, which only the local target runs")
    if state is None:
        raise WanUnavailable("nothing deployed on the local target: run up first")
    if not state.wan:
        raise WanUnavailable(
            "the WAN emulator is off for this deployment (it was brought up with MCLOUD_WAN=off); "
            "run up again without MCLOUD_WAN=off to turn it on"
        )
    if not running(cfg, state.deployment_name):
        log = wan_dir(cfg, state.deployment_name) / "logs" / "wan.log"
        raise WanUnavailable(f"the WAN emulator of this deployment is not running (log: {log}); rerun up")
    return WanControl(state.wan_control or control_address(state.addresses()))


def partition(cfg: TargetConfig, state: DeploymentState | None, cloud: str) -> WanStatus:
    """Cut ``cloud`` off from the other two (both directions); WanError when the emulator refuses."""
    if cloud not in CLOUDS:
        raise WanUnavailable(f"unknown cloud {cloud!r}: one of {', '.join(CLOUDS)}")
    ctl = control_for(cfg, state)
    return _from_doc(ctl.partition(cloud), ctl.address)


def heal(cfg: TargetConfig, state: DeploymentState | None, cloud: str | None = None) -> WanStatus:
    """Reconnect ``cloud`` (every cloud when None)."""
    if cloud is not None and cloud not in CLOUDS:
        raise WanUnavailable(f"unknown cloud {cloud!r}: one of {', '.join(CLOUDS)}")
    ctl = control_for(cfg, state)
    return _from_doc(ctl.heal(cloud), ctl.address)


__all__ = [
    "WanError",
    "WanStatus",
    "WanUnavailable",
    "control_for",
    "heal",
    "partition",
    "ports",
    "running",
    "start",
    "status_of",
    "stop",
]
