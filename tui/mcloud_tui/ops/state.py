"""The deployment state file ``<state>/<target>/deployment.json``: what is provisioned, since when.

It survives restarts of the console (the cost meter continues from ``provisioned_at``) and tells
``down`` what to tear down even when the inventory is gone. Written atomically (tmp + rename).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .events import DeploymentInfo, NodeInfo


@dataclass
class DeploymentState:
    target: str
    deployment_name: str
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)  # cloud -> nodes output entry
    provisioned_at: float = 0.0
    status: str = "provisioning"  # provisioning | provisioned | deployed | failed | tearing-down
    updated_at: float = field(default_factory=time.time)
    # Local target: the WAN emulator this deployment runs behind (its services' env points at its links).
    wan: bool = False
    wan_rtt_ms: dict[str, float] = field(default_factory=dict)  # {"aws-gcp": 30.0, ...}
    wan_control: str = ""  # host:port of the emulator's control endpoint

    def addresses(self) -> dict[str, str]:
        """{cloud: public ip} of the provisioned hosts."""
        return {k: str(v.get("public_ip", "")) for k, v in self.hosts.items() if v.get("public_ip")}

    def info(self) -> DeploymentInfo:
        nodes = {
            k: NodeInfo(
                host=k,  # type: ignore[arg-type]
                ip=str(v.get("public_ip", "")),
                private_ip=str(v.get("private_ip", "")),
                instance_type=str(v.get("instance_type", "")),
                spot=bool(v.get("spot", False)),
                gpu=bool(v.get("gpu", False)),
                region=str(v.get("region", "")),
            )
            for k, v in self.hosts.items()
        }
        return DeploymentInfo(self.target, self.deployment_name, nodes, self.provisioned_at)  # type: ignore[arg-type]


def load_state(path: Path) -> DeploymentState | None:
    """The recorded deployment, or None (no file, or a file this version cannot read)."""
    try:
        data = json.loads(path.read_text())
        return DeploymentState(**data)
    except (OSError, ValueError, TypeError):
        return None


def save_state(path: Path, state: DeploymentState) -> None:
    state.updated_at = time.time()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2, sort_keys=True))
    os.replace(tmp, path)


def clear_state(path: Path) -> None:
    path.unlink(missing_ok=True)
