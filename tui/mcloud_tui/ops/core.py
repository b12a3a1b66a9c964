"""The orchestration core: up (preflight -> plan -> provision -> inventory -> deploy -> verify), down
(teardown playbook -> local sweep -> terraform destroy -> state must be empty), status and smoke.

Every method blocks and reports only through the EventSink; run it on a worker thread from a UI and call
:meth:`Ops.cancel` to stop it (Terraform gets one SIGINT and saves its state, ansible-playbook is
terminated by ansible-runner; ``down`` then cleans up whatever an interrupted ``up`` left).
Methods return True on success; failures are reported as ``Error`` + ``PhaseFinished(ok=False)``.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import localwan, procctl
from .ansible import run_playbook
from .config import (
    CP_HEALTH_PORT,
    GRPC_PORT,
    RAFT_PORT,
    STORAGE_HOST,
    STORAGE_PORT,
    WORKER_HEALTH_PORT,
    ConfigError,
    TargetConfig,
)
from .events import (
    DeploymentInfo,
    Error,
    EventSink,
    HostHealth,
    HostLog,
    LeaderChanged,
    Phase,
    PhaseFinished,
    PhaseStarted,
)
from .health import ClusterHealth, probe
from .hostmap import host_of
from .localwan import WanStatus
from .secrets import SecretsError, load_secrets
from .smoke import run_smoke
from .state import DeploymentState, clear_state, load_state, save_state
from .terraform import Cancelled, Terraform, TerraformError

# service name (procctl / role) -> ports it binds on its host
SERVICE_PORTS: dict[str, tuple[int, ...]] = {
    "controlplane": (RAFT_PORT, GRPC_PORT, CP_HEALTH_PORT),
    "worker": (WORKER_HEALTH_PORT,),
    "storage": (STORAGE_PORT,),
}
VERIFY_TIMEOUT_S = float(os.environ.get("MCLOUD_VERIFY_TIMEOUT", "45"))


@dataclass(frozen=True)
class PlanSummary:
    """What a plan would do, handed to ``confirm_plan`` before apply (the cost preview's input).

    ``nodes``: planned ``nodes`` output {cloud: {instance_type, spot, gpu, ...}} where Terraform knows it
    before apply (empty for unknown values)."""

    target: str
    changes: dict[str, int]
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)


class PhaseFailed(RuntimeError):
    """Raised inside a phase after its Error events were emitted."""


def services_of(host: str) -> list[str]:
    return ["controlplane", "worker"] + (["storage"] if host == STORAGE_HOST else [])


class Ops:
    """One operation context per target; cheap to create; not re-entrant (one operation at a time)."""

    def __init__(
        self,
        target: str = "local",
        sink: EventSink | None = None,
        *,
        config: TargetConfig | None = None,
        confirm_plan: Callable[[PlanSummary], bool] | None = None,
    ) -> None:
        self.cfg = config or TargetConfig.from_env(target)
        self.sink: EventSink = sink or (lambda e: None)
        self.confirm_plan = confirm_plan
        self._cancel = threading.Event()
        self.tf = Terraform(self.cfg, self.sink, self._cancel)

    # --- public API ------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the running operation to stop at the next safe point (thread-safe)."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def load_state(self) -> DeploymentState | None:
        """The recorded deployment of this target (None when nothing is provisioned)."""
        return load_state(self.cfg.deployment_file)

    def up(self) -> bool:
        """Provision and deploy; idempotent (a second up changes nothing and starts nothing twice)."""
        t_start = time.monotonic()
        try:
            with self._lock():
                self._phase("preflight", self._preflight)
                plan_file = self._phase("plan", self._plan)
                state = self._phase("provision", lambda: self._provision(plan_file))
                self._phase("inventory", self._inventory)
                self._phase("deploy", lambda: self._deploy(state))
                self._phase("verify", lambda: self._verify(state))
        except (PhaseFailed, Cancelled):
            return False
        self.sink(HostLog(None, "ops", f"up complete in {time.monotonic() - t_start:.1f}s"))
        return True

    def down(self) -> bool:
        """Tear everything down; safe to repeat; cleans up after an interrupted up."""
        try:
            with self._lock():
                self._phase("teardown", self._teardown)
        except (PhaseFailed, Cancelled):
            return False
        return True

    def status(self) -> bool:
        """Emit DeploymentInfo and one health sample; False when deployed but unhealthy."""
        try:
            return bool(self._phase("status", self._status))
        except (PhaseFailed, Cancelled):
            return False

    def smoke(self) -> bool:
        """Run the smoke test against the recorded deployment."""
        try:
            return bool(self._phase("smoke", self._smoke))
        except (PhaseFailed, Cancelled):
            return False

    def wan_status(self) -> WanStatus | None:
        """The WAN emulator of the recorded local deployment (files only); None when none is deployed."""
        return localwan.status_of(self.cfg, self.load_state())

    def partition(self, cloud: str) -> WanStatus:
        """Cut ``cloud`` off from the other two through the emulator. Raises
        localwan.WanUnavailable (no local deployment / WAN off) or WanError (the emulator refused)."""
        return localwan.partition(self.cfg, self.load_state(), cloud)

    def heal(self, cloud: str | None = None) -> WanStatus:
        """Reconnect ``cloud`` (every cloud when None); same errors as :meth:`partition`."""
        return localwan.heal(self.cfg, self.load_state(), cloud)

    def probe(self) -> ClusterHealth | None:
        """One health sample of the recorded deployment (for pollers); None when nothing is deployed."""
        st = self.load_state()
        return probe(st.addresses()) if st and st.addresses() else None

    # --- phase plumbing --------------------------------------------------------------------------
    def _phase(self, phase: Phase, fn: Callable[[], object]) -> object:
        if self._cancel.is_set():
            self.sink(Error(f"{phase}: cancelled before it started"))
            raise Cancelled(phase)
        self.sink(PhaseStarted(phase))
        t0 = time.monotonic()
        try:
            result = fn()
        except Cancelled as exc:
            self.sink(Error(f"{phase} cancelled: {exc}", hint=self._hint_after_cancel()))
            self.sink(PhaseFinished(phase, False, "cancelled", time.monotonic() - t0))
            raise
        except TerraformError as exc:
            for line in exc.diagnostics[-15:]:
                self.sink(HostLog(host_of(line), "terraform", line, "error"))
            self.sink(Error(f"{phase}: {exc}", hint=self._hint(phase)))
            self.sink(PhaseFinished(phase, False, str(exc), time.monotonic() - t0))
            raise PhaseFailed(phase) from exc
        except (ConfigError, SecretsError, OSError, subprocess.SubprocessError) as exc:
            self.sink(Error(f"{phase}: {exc}", hint=self._hint(phase)))
            self.sink(PhaseFinished(phase, False, str(exc), time.monotonic() - t0))
            raise PhaseFailed(phase) from exc
        except PhaseFailed:
            self.sink(PhaseFinished(phase, False, "see errors above", time.monotonic() - t0))
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must still end as one clear failed phase
            self.sink(Error(f"{phase}: unexpected {type(exc).__name__}: {exc}"))
            self.sink(PhaseFinished(phase, False, str(exc), time.monotonic() - t0))
            raise PhaseFailed(phase) from exc
        except KeyboardInterrupt:
            self._cancel.set()
            self.sink(Error(f"{phase} interrupted", hint=self._hint_after_cancel()))
            self.sink(PhaseFinished(phase, False, "interrupted", time.monotonic() - t0))
            raise Cancelled(phase) from None
        self.sink(PhaseFinished(phase, True, "", time.monotonic() - t0))
        return result

    def _hint(self, phase: str) -> str:
        if phase in ("deploy", "verify", "provision", "inventory"):
            return f"fix the cause, then rerun up (idempotent) or `mcloud-tui --headless down --target {self.cfg.target}`"
        return ""

    def _hint_after_cancel(self) -> str:
        return f"run `mcloud-tui --headless down --target {self.cfg.target}` to remove what was created"

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """One up/down at a time per target (console and headless may both be open)."""
        self.cfg.target_dir.mkdir(parents=True, exist_ok=True)
        with open(self.cfg.target_dir / "ops.lock", "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.sink(
                    Error(f"another up/down of the {self.cfg.target} target is running (lock {fh.name})")
                )
                raise PhaseFailed("lock") from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # --- phases: up ------------------------------------------------------------------------------
    def _preflight(self) -> None:
        problems: list[Error] = []
        if not self.tf.binary:
            problems.append(
                Error(
                    "terraform not found on PATH",
                    hint="install Terraform >= 1.4 (https://developer.hashicorp.com/terraform/install) "
                    "or set MCLOUD_TERRAFORM=/path/to/terraform",
                )
            )
        else:
            self.sink(HostLog(None, "ops", f"terraform: {self.tf.binary}"))
        if importlib.util.find_spec("ansible_runner") is None:
            problems.append(Error("ansible-runner is not installed in this Python", hint="run `make setup`"))
        for path in (self.cfg.tf_dir, self.cfg.generate_sh, self.cfg.playbooks / "deploy.yml"):
            if not path.exists():
                problems.append(Error(f"missing {path}", hint="is MCLOUD_REPO_DIR / the checkout complete?"))
        if self.cfg.target == "local":
            problems += self._preflight_local()
        for p in problems:
            self.sink(p)
        if problems:
            raise PhaseFailed("preflight")

    def _preflight_local(self) -> list[Error]:
        problems: list[Error] = []
        env_path = self.cfg.python_path().split(os.pathsep)
        for mod, what in (("control_plane", "mcloud-cp"), ("worker", "mcloud-worker")):
            if importlib.util.find_spec(mod) is None and not any((Path(p) / mod).is_dir() for p in env_path):
                problems.append(
                    Error(f"{what} ({mod}) is not importable by {self.cfg.python}", hint="run `make setup`")
                )
        # ports: anything listening that is not one of our own running services blocks the deploy
        state = self.load_state()
        name = state.deployment_name if state else self.cfg.deployment_name
        for host, ip in self.cfg.local_hosts.items():
            hdir = self.cfg.host_dir(host, name)
            for svc in services_of(host):
                if procctl.running_pid(hdir, svc) is not None:
                    continue
                for port in SERVICE_PORTS[svc]:
                    if procctl.port_in_use(ip, port):
                        problems.append(
                            Error(
                                procctl.describe_port_conflict(ip, port),
                                host=host,  # type: ignore[arg-type]
                                hint="stop that process, or pick other addresses with MCLOUD_LOCAL_HOSTS",
                            )
                        )
        problems += self._preflight_wan(name)
        if state and state.deployment_name != self.cfg.deployment_name:
            problems.append(
                Error(
                    f"deployment {state.deployment_name!r} is already up for the {self.cfg.target} target "
                    f"(MCLOUD_DEPLOYMENT={self.cfg.deployment_name!r})",
                    hint="run down first",
                )
            )
        return problems

    def _preflight_wan(self, name: str) -> list[Error]:
        if not self.cfg.wan.enabled:
            return []
        try:
            wan_ports = localwan.ports(self.cfg.local_hosts)
        except ConfigError as exc:
            return [
                Error(str(exc), hint="use addresses like 127.0.1.1,127.0.2.1,127.0.3.1, or MCLOUD_WAN=off")
            ]
        if localwan.running(self.cfg, name):
            return []
        return [
            Error(
                f"WAN emulator: {procctl.describe_port_conflict(ip, port)}",
                hint="stop that process, pick other addresses with MCLOUD_LOCAL_HOSTS, or MCLOUD_WAN=off",
            )
            for ip, port in wan_ports
            if procctl.port_in_use(ip, port)
        ]

    def _plan(self) -> Path:
        self.tf.init()
        plan_file = self.cfg.target_dir / "tf.plan"
        plan_file.parent.mkdir(parents=True, exist_ok=True)
        res = self.tf.plan(plan_file)
        changes = {k: int(v) for k, v in res.changes.items() if isinstance(v, int)}
        self.sink(
            HostLog(
                None,
                "ops",
                f"plan: {changes.get('add', 0)} to add, {changes.get('change', 0)} to change, "
                f"{changes.get('remove', 0)} to destroy",
            )
        )
        if self.confirm_plan is not None:
            summary = PlanSummary(
                self.cfg.target,
                changes,
                self.tf.planned_nodes(plan_file) if self.cfg.target == "cloud" else {},
            )
            if not self.confirm_plan(summary):
                plan_file.unlink(missing_ok=True)
                raise Cancelled("plan not confirmed: nothing was created")
        return plan_file

    def _provision(self, plan_file: Path) -> DeploymentState:
        prev = self.load_state()
        state = prev or DeploymentState(self.cfg.target, self.cfg.deployment_name)
        state.status = "provisioning" if not prev else prev.status
        save_state(self.cfg.deployment_file, state)  # from here on `down` knows there is something to remove
        try:
            self.tf.apply(plan_file)
        finally:
            plan_file.unlink(missing_ok=True)
        out = self.tf.output()
        nodes = out.get("nodes") or {}
        if not nodes:
            raise TerraformError("terraform output has no `nodes` (see notes/CONTRACTS.md)")
        state.hosts = {k: dict(v) for k, v in nodes.items()}
        state.deployment_name = str(out.get("deployment_name") or state.deployment_name)
        if not state.provisioned_at:
            state.provisioned_at = time.time()
        if state.status == "provisioning":
            state.status = "provisioned"
        save_state(self.cfg.deployment_file, state)
        self.sink(state.info())
        return state

    def _inventory(self) -> None:
        out = self.cfg.inventory_path
        out.parent.mkdir(parents=True, exist_ok=True)
        env = self.tf.env()
        env["PATH"] = f"{Path(self.tf.binary or 'terraform').parent}{os.pathsep}{env.get('PATH', '')}"
        proc = subprocess.run(  # noqa: S603
            ["bash", str(self.cfg.generate_sh), str(self.cfg.tf_dir), str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        for line in (proc.stdout + proc.stderr).splitlines():
            if line.strip():
                self.sink(HostLog(host_of(line), "ops", line, "info" if proc.returncode == 0 else "error"))
        if proc.returncode != 0 or not out.exists():
            self.sink(Error(f"inventory generation failed (exit {proc.returncode})"))
            raise PhaseFailed("inventory")
        groups = [ln.strip("[]") for ln in out.read_text().splitlines() if ln.startswith("[")]
        self.sink(HostLog(None, "ops", f"inventory {out}: groups {', '.join(groups)}"))

    def _deploy(self, state: DeploymentState) -> None:
        extravars: dict[str, Any] = {}
        if self.cfg.target == "local":
            self._wan_up(state)  # before the services: their env routes cross-cloud traffic through it
            extravars["mcloud_wan"] = state.wan
        res = run_playbook(
            self.cfg,
            "deploy.yml",
            self.cfg.inventory_path,
            self.sink,
            extravars=extravars,
            cancel=self._cancel,
        )
        if res.status == "canceled" or self._cancel.is_set():
            raise Cancelled("ansible-playbook deploy.yml")
        changed = sum(res.changed.values())
        self.sink(HostLog(None, "ops", f"deploy: {changed} task(s) changed ({res.changed})"))
        if not res.ok:
            for h in res.failed_hosts or [None]:
                self.sink(
                    Error(
                        f"deploy failed on {h}" if h else f"deploy failed ({res.status}, rc={res.rc})",
                        host=host_of(h),
                    )
                )
            state.status = "failed"
            save_state(self.cfg.deployment_file, state)
            raise PhaseFailed("deploy")
        state.status = "deployed"
        save_state(self.cfg.deployment_file, state)
        if self.cfg.target == "local" and not state.wan and localwan.stop(self.cfg, state.deployment_name):
            self.sink(HostLog(None, "ops", "wan: emulator stopped (MCLOUD_WAN=off)"))

    def _wan_up(self, state: DeploymentState) -> None:
        """Record the WAN settings in the state file and start the emulator when they say so."""
        wan = self.cfg.wan
        state.wan = wan.enabled
        state.wan_rtt_ms = dict(wan.rtt_ms)
        state.wan_control = localwan.control_address(state.addresses()) if wan.enabled else ""
        save_state(self.cfg.deployment_file, state)
        if not wan.enabled:
            return
        try:
            r = localwan.start(self.cfg, state)
        except procctl.ProcError as exc:
            raise OSError(f"WAN emulator: {exc}") from None
        self.sink(
            HostLog(
                None,
                "ops",
                f"wan: emulator {r.action} (pid {r.pid}), RTT ms {wan.rtt_spec}, control http://{state.wan_control}",
            )
        )

    def _verify(self, state: DeploymentState) -> None:
        addresses = state.addresses()
        deadline = time.monotonic() + VERIFY_TIMEOUT_S
        last_rows: dict[str, HostHealth] = {}
        leader = None
        while True:
            sample = probe(addresses)
            for host, hh in sample.hosts.items():
                prev = last_rows.get(host)
                if prev is None or (prev.cp, prev.worker, prev.storage, prev.role) != (
                    hh.cp,
                    hh.worker,
                    hh.storage,
                    hh.role,
                ):
                    self.sink(hh)
                last_rows[host] = hh
            if sample.agreed_leader != leader:
                leader = sample.agreed_leader
                term = max((h.term for h in sample.hosts.values()), default=0)
                self.sink(LeaderChanged(sample.leader_host(addresses), leader, term))  # type: ignore[arg-type]
            if sample.all_healthy:
                self.sink(HostLog(None, "ops", f"healthy: {sample.summary()}"))
                return
            if self._cancel.is_set():
                raise Cancelled("verify")
            if time.monotonic() > deadline:
                break
            time.sleep(0.25)
        self.sink(Error(f"not healthy after {VERIFY_TIMEOUT_S:.0f}s: {sample.summary()}"))
        if self.cfg.target == "local":
            self._show_dead_services(state, sample)
        raise PhaseFailed("verify")

    def _show_dead_services(self, state: DeploymentState, sample: ClusterHealth) -> None:
        for host, hh in sample.hosts.items():
            for svc, st in (("controlplane", hh.cp), ("worker", hh.worker), ("storage", hh.storage)):
                if st == "down":
                    hdir = self.cfg.host_dir(host, state.deployment_name)
                    self.sink(Error(f"{svc} on {host} is down; last lines of its log:", host=host))  # type: ignore[arg-type]
                    for line in procctl.log_tail(hdir, svc, 15):
                        self.sink(HostLog(host, "service", line, "error"))  # type: ignore[arg-type]

    # --- phases: down ----------------------------------------------------------------------------
    def _teardown(self) -> None:
        state = self.load_state()
        name = state.deployment_name if state else self.cfg.deployment_name
        if not self.tf.binary:
            raise TerraformError(
                "terraform not found on PATH (install Terraform >= 1.4, or set MCLOUD_TERRAFORM)"
            )
        self.tf.init()
        resources = self.tf.state_list()
        if state is None and not resources and not self._local_leftovers(name):
            self.sink(HostLog(None, "ops", "nothing to tear down"))
            return
        if state is not None:
            state.status = "tearing-down"
            save_state(self.cfg.deployment_file, state)
        ok = True
        # 1. Ansible teardown (stops services through the same role that started them)
        if resources:
            inv_ok = self.cfg.inventory_path.exists()
            if not inv_ok:
                try:
                    self._inventory()
                    inv_ok = True
                except PhaseFailed:
                    self.sink(HostLog(None, "ops", "no inventory: skipping the teardown playbook", "warning"))
            if inv_ok and (self.cfg.playbooks / "teardown.yml").exists():
                res = run_playbook(
                    self.cfg, "teardown.yml", self.cfg.inventory_path, self.sink, cancel=self._cancel
                )
                if res.status == "canceled" or self._cancel.is_set():
                    raise Cancelled("ansible-playbook teardown.yml")
                if not res.ok:
                    self.sink(
                        HostLog(
                            None, "ops", f"teardown playbook failed ({res.status}); continuing", "warning"
                        )
                    )
        # 2. local safety net: pid files, then anything still running in the deployment dirs
        if self.cfg.target == "local":
            ok &= self._local_sweep(name, state)
        # 3. terraform destroy; state must be empty afterwards
        if resources:
            self.tf.destroy()
        left = self.tf.state_list()
        if left:
            self.sink(Error(f"terraform state is not empty after destroy: {', '.join(left)}"))
            raise PhaseFailed("teardown")
        self.sink(HostLog(None, "ops", "terraform state is empty"))
        if not ok:
            raise PhaseFailed("teardown")
        clear_state(self.cfg.deployment_file)
        self.cfg.inventory_path.unlink(missing_ok=True)

    def _local_leftovers(self, name: str) -> bool:
        root = self.cfg.deployment_root(name)
        return root.exists() and any(procctl.services(d) for d in root.iterdir() if d.is_dir())

    def _local_sweep(self, name: str, state: DeploymentState | None) -> bool:
        root = self.cfg.deployment_root(name)
        if root.is_dir():
            for hdir in sorted(p for p in root.iterdir() if p.is_dir()):
                for svc in procctl.stop_all(hdir):
                    self.sink(HostLog(host_of(hdir.name), "ops", f"stopped {svc}"))  # type: ignore[arg-type]
            for pid in procctl.sweep(root):
                self.sink(HostLog(None, "ops", f"killed leftover process {pid} under {root}", "warning"))
            for hdir in (p for p in root.iterdir() if p.is_dir()):
                for sub in ("run", "data"):
                    shutil.rmtree(hdir / sub, ignore_errors=True)
        addresses = (state.addresses() if state else {}) or self.cfg.local_hosts
        localwan.state_file(self.cfg, name).unlink(missing_ok=True)  # a SIGKILLed emulator leaves it
        ok = True
        checks: list[tuple[str | None, str, int]] = [
            (host, ip, port)
            for host, ip in addresses.items()
            for svc in services_of(host)
            for port in SERVICE_PORTS[svc]
        ]
        if state.wan if state else self.cfg.wan.enabled:
            with contextlib.suppress(ConfigError):  # hosts that cannot have had an emulator
                checks += [(None, ip, port) for ip, port in localwan.ports(addresses)]
        for host, ip, port in checks:
            if self._wait_port_free(ip, port):
                continue
            ok = False
            self.sink(
                Error(
                    f"still listening after teardown: {procctl.describe_port_conflict(ip, port)}",
                    host=host,  # type: ignore[arg-type]
                )
            )
        if ok:
            self.sink(HostLog(None, "ops", "no service process and no listening port left"))
        return ok

    @staticmethod
    def _wait_port_free(ip: str, port: int, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while procctl.port_in_use(ip, port):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    # --- status / smoke --------------------------------------------------------------------------
    def _status(self) -> bool:
        state = self.load_state()
        if state is None:
            self.sink(HostLog(None, "ops", f"nothing deployed on the {self.cfg.target} target"))
            return True
        self.sink(state.info())
        self.sink(HostLog(None, "ops", f"status: {state.status}"))
        wan = localwan.status_of(self.cfg, state)
        if wan is not None:
            self.sink(
                HostLog(None, "ops", wan.line(), "info" if wan.running or not wan.enabled else "warning")
            )
        sample = probe(state.addresses())
        for hh in sample.hosts.values():
            self.sink(hh)
        lead = sample.agreed_leader
        self.sink(
            LeaderChanged(
                sample.leader_host(state.addresses()),
                lead,
                max((h.term for h in sample.hosts.values()), default=0),
            )
        )  # type: ignore[arg-type]
        if not sample.all_healthy:
            self.sink(Error(f"deployment is not healthy: {sample.summary()}"))
            raise PhaseFailed("status")
        return True

    def _smoke(self) -> bool:
        state = self.load_state()
        if state is None or not state.addresses():
            self.sink(Error(f"nothing deployed on the {self.cfg.target} target", hint="run up first"))
            raise PhaseFailed("smoke")
        secrets = load_secrets(self.cfg.secrets_dir(state.deployment_name))
        ok = run_smoke(self.sink, state.addresses(), secrets)
        if not ok:
            self.sink(Error("smoke test failed (see FAIL lines above)"))
            raise PhaseFailed("smoke")
        return True


def deployment_info(target: str = "local") -> DeploymentInfo | None:
    """The recorded deployment of a target, for a console that reopens (None when nothing is up)."""
    st = load_state(TargetConfig.from_env(target).deployment_file)
    return st.info() if st else None
