"""Where a target's files live and how it is parameterised (env vars), resolved once per operation.

Everything a deployment writes (Terraform state of the local root, inventory, ansible-runner artifacts,
secrets, per-host run/log/data dirs of the local processes, the deployment state file) lives under
``$MCLOUD_STATE_DIR`` (default ``<repo>/.mcloud``), so a test with its own state dir and its own
``MCLOUD_LOCAL_HOSTS`` never touches a developer's running local target.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .events import HOSTS

Target = Literal["local", "cloud"]
TARGETS: tuple[Target, ...] = ("local", "cloud")
DEFAULT_LOCAL_HOSTS: dict[str, str] = {"aws": "127.0.1.1", "gcp": "127.0.2.1", "azure": "127.0.3.1"}
DEFAULT_LOCAL_DEPLOYMENT = "mcloud-local"
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")

# Ports every node uses (DESIGN.md); the same on every host, the local hosts differ by address only.
RAFT_PORT = 7000
GRPC_PORT = 50051
CP_HEALTH_PORT = 8080
WORKER_HEALTH_PORT = 8081
STORAGE_PORT = 9000
STORAGE_HOST = "aws"
# the emulator's control endpoint on the aws host: one of DESIGN.md's "reserved for services" ports
WAN_CONTROL_PORT = 8085
_ON = ("1", "on", "true", "yes")
_OFF = ("0", "off", "false", "no")


class ConfigError(ValueError):
    """A bad setting; the message names the env var / value so the operator can fix it."""


def repo_root() -> Path:
    """The repository (terraform/, ansible/ live there); MCLOUD_REPO_DIR overrides for installed copies."""
    env = os.environ.get("MCLOUD_REPO_DIR")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[3]


def state_root(repo: Path | None = None) -> Path:
    """``$MCLOUD_STATE_DIR`` or ``<repo>/.mcloud`` (absolute)."""
    env = os.environ.get("MCLOUD_STATE_DIR")
    return Path(env).expanduser().resolve() if env else (repo or repo_root()) / ".mcloud"


def parse_local_hosts(value: str | None) -> dict[str, str]:
    """``MCLOUD_LOCAL_HOSTS`` -> {cloud: address}.

    Either three addresses in the order aws,gcp,azure (``127.0.71.1,127.0.72.1,127.0.73.1``) or
    ``aws=127.0.71.1,gcp=127.0.72.1,azure=127.0.73.1``.
    """
    if not value:
        return dict(DEFAULT_LOCAL_HOSTS)
    parts = [p.strip() for p in value.split(",")]
    if any("=" in p for p in parts):
        named = dict(p.partition("=")[::2] for p in parts)
        if set(named) != set(HOSTS) or len(parts) != 3:
            raise ConfigError(
                f"MCLOUD_LOCAL_HOSTS must name aws=, gcp= and azure= exactly once, got {value!r}"
            )
        parts = [named[h].strip() for h in HOSTS]
    if len(parts) != 3:
        raise ConfigError(
            f"MCLOUD_LOCAL_HOSTS must be three comma-separated loopback addresses (aws,gcp,azure), got {value!r}"
        )
    for p in parts:
        try:
            ok = ipaddress.IPv4Address(p).is_loopback
        except ValueError:
            ok = False
        if not ok:
            raise ConfigError(f"MCLOUD_LOCAL_HOSTS: {p!r} is not an IPv4 loopback address (127.x.y.z)")
    if len(set(parts)) != 3:
        raise ConfigError(f"MCLOUD_LOCAL_HOSTS: the three addresses must differ, got {value!r}")
    return dict(zip(HOSTS, parts, strict=True))


@dataclass(frozen=True)
class WanSettings:
    """The local target's WAN emulation: on by default, so three "clouds" on one machine are 10-35 ms
    apart as real ones are (docs/reliability.md); ``MCLOUD_WAN=off`` runs them back to back."""

    enabled: bool = False
    rtt_ms: dict[str, float] = field(default_factory=dict)  # {"aws-gcp": 30.0, ...}; empty when off

    @property
    def rtt_spec(self) -> str:
        """``aws-gcp=30,aws-azure=10,gcp-azure=35`` (what ``mcloud-wan serve --rtt`` takes)."""
        return ",".join(f"{k}={v:g}" for k, v in self.rtt_ms.items())


def parse_wan(value: str | None, rtt: str | None) -> WanSettings:
    """``MCLOUD_WAN`` (on|off, default on) and ``MCLOUD_WAN_RTT`` (``aws-gcp=30,...``, RTT ms; pairs not
    named keep the defaults aws-gcp 30, aws-azure 10, gcp-azure 35)."""
    from .wan.topology import WanConfigError, parse_matrix

    flag = (value or "on").strip().lower()
    if flag not in _ON + _OFF:
        raise ConfigError(f"MCLOUD_WAN must be on or off, got {value!r}")
    try:
        matrix = parse_matrix(rtt or "")
    except WanConfigError as exc:
        raise ConfigError(f"MCLOUD_WAN_RTT={rtt!r}: {exc}") from None
    if flag in _OFF:
        return WanSettings(enabled=False)
    return WanSettings(enabled=True, rtt_ms=matrix.as_dict())


@dataclass(frozen=True)
class TargetConfig:
    """Resolved paths and parameters of one target (local or cloud)."""

    target: Target
    repo: Path
    state_dir: Path
    deployment_name: str
    local_hosts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LOCAL_HOSTS))
    python: str = sys.executable
    wan: WanSettings = field(default_factory=WanSettings)  # local target only

    @classmethod
    def from_env(cls, target: str = "local") -> TargetConfig:
        """Read MCLOUD_STATE_DIR, MCLOUD_LOCAL_HOSTS, MCLOUD_DEPLOYMENT, MCLOUD_WAN, MCLOUD_WAN_RTT; raise
        ConfigError on bad values."""
        if target not in TARGETS:
            raise ConfigError(f"--target must be one of {', '.join(TARGETS)}, got {target!r}")
        repo = repo_root()
        name = os.environ.get("MCLOUD_DEPLOYMENT", DEFAULT_LOCAL_DEPLOYMENT if target == "local" else "")
        if name and not _NAME_RE.match(name):
            raise ConfigError(
                f"MCLOUD_DEPLOYMENT={name!r}: use 3-40 characters of a-z, 0-9 and '-', starting with a letter"
            )
        hosts = parse_local_hosts(os.environ.get("MCLOUD_LOCAL_HOSTS")) if target == "local" else {}
        wan = (
            parse_wan(os.environ.get("MCLOUD_WAN"), os.environ.get("MCLOUD_WAN_RTT"))
            if target == "local"
            else WanSettings()
        )
        return cls(
            target=target,  # type: ignore[arg-type]
            repo=repo,
            state_dir=state_root(repo),
            deployment_name=name,
            local_hosts=hosts,
            wan=wan,
        )

    # --- Terraform ---------------------------------------------------------------------------------
    @property
    def tf_dir(self) -> Path:
        return self.repo / "terraform" / "local" if self.target == "local" else self.repo / "terraform"

    @property
    def target_dir(self) -> Path:
        """``<state>/<target>``: everything of this target except secrets."""
        return self.state_dir / self.target

    @property
    def tf_data_dir(self) -> Path | None:
        """TF_DATA_DIR for the local root (None for cloud: its .terraform stays in terraform/)."""
        return self.target_dir / "tf" / "data" if self.target == "local" else None

    @property
    def tf_state_path(self) -> Path | None:
        """Local backend path for the local root (None for cloud: the cloud root decides)."""
        return self.target_dir / "tf" / "terraform.tfstate" if self.target == "local" else None

    def tf_vars(self) -> list[str]:
        """``-var`` arguments for plan/apply/destroy."""
        if self.target != "local":
            return []
        hosts = ",".join(f'{k}="{v}"' for k, v in self.local_hosts.items())
        return ["-var", f"deployment_name={self.deployment_name}", "-var", f"host_addresses={{{hosts}}}"]

    # --- inventory / ansible -----------------------------------------------------------------------
    @property
    def inventory_path(self) -> Path:
        return self.target_dir / "hosts.ini"

    @property
    def runner_dir(self) -> Path:
        """ansible-runner's private_data_dir (artifacts of every run, rotated)."""
        return self.target_dir / "ansible"

    @property
    def deployment_file(self) -> Path:
        return self.target_dir / "deployment.json"

    @property
    def generate_sh(self) -> Path:
        return self.repo / "ansible" / "inventory" / "generate.sh"

    @property
    def playbooks(self) -> Path:
        return self.repo / "ansible" / "playbooks"

    # --- local processes ---------------------------------------------------------------------------
    def deployment_root(self, name: str | None = None) -> Path:
        """``<state>/nodes/<deployment>``: parent of the per-host {run,logs,data,env} dirs.

        Must match ``pipeline_home`` of roles/pipeline-node/defaults/main.yml for the process runtime
        (a unit test checks it)."""
        return self.state_dir / "nodes" / (name or self.deployment_name)

    def host_dir(self, host: str, name: str | None = None) -> Path:
        return self.deployment_root(name) / host

    def secrets_dir(self, name: str | None = None) -> Path:
        return self.state_dir / "secrets" / (name or self.deployment_name)

    def python_path(self) -> str:
        """Source roots first, so services and procctl import this checkout even without an install."""
        roots = [str(self.repo / d) for d in ("tui", "control-plane", "worker")]
        existing = os.environ.get("PYTHONPATH")
        return os.pathsep.join(roots + ([existing] if existing else []))
