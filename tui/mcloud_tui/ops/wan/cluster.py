"""A control-plane group behind the WAN emulator, as real local processes: for tests and benches.

`WanCluster` is `control_plane.localcluster.LocalCluster` plus an emulator process: each node gets the
RAFT_ROUTES of its cloud (so Raft between clouds crosses the links), `endpoints_from(cloud)` gives a client
in a cloud its CP_ENDPOINTS, and `partition`/`heal` drive the emulator over its control channel.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from control_plane.localcluster import LocalCluster, NodeProc

from .control import WanControl
from .topology import CLOUDS, LatencyMatrix, WanPlan


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class WanProcess:
    """One `python -m mcloud_tui.ops.wan serve` process for a plan."""

    plan: WanPlan
    base_dir: Path
    matrix: LatencyMatrix = field(default_factory=LatencyMatrix)
    control_addr: str = ""
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.base_dir / "wan.log"

    @property
    def state_file(self) -> Path:
        return self.base_dir / "wan.json"

    @property
    def control(self) -> WanControl:
        return WanControl(self.control_addr)

    def start(self, timeout: float = 15.0) -> WanProcess:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.control_addr = self.control_addr or f"127.0.0.1:{free_port()}"
        hosts = ",".join(f"{c}={self.plan.hosts[c]}" for c in CLOUDS)
        rtt = ",".join(f"{k}={v:g}" for k, v in self.matrix.as_dict().items())
        cmd = [
            sys.executable, "-m", "mcloud_tui.ops.wan", "--control", self.control_addr, "serve",
            "--hosts", hosts, "--rtt", rtt, "--jitter", f"{self.matrix.jitter_ms:g}",
            "--raft-port", str(self.plan.raft_port), "--grpc-port", str(self.plan.grpc_port),
            "--s3-port", str(self.plan.s3_port), "--storage-cloud", self.plan.storage_cloud,
            "--state-file", str(self.state_file),
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"WAN emulator exited: {self.log_path.read_text(errors='replace')[-2000:]}"
                )
            if self.state_file.exists():
                return self
            time.sleep(0.05)
        raise TimeoutError(f"WAN emulator not ready within {timeout}s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class WanCluster(LocalCluster):
    """Three control-plane nodes (aws, gcp, azure) whose Raft traffic crosses the emulated WAN."""

    matrix: LatencyMatrix = field(default_factory=LatencyMatrix)
    wan_enabled: bool = True
    wan: WanProcess | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.nodes) != len(CLOUDS):
            raise ValueError("WanCluster needs exactly three hosts (aws, gcp, azure)")
        self.plan = WanPlan(
            hosts=dict(zip(CLOUDS, self.hosts, strict=True)),
            raft_port=self.raft_port,
            grpc_port=self.grpc_port,
        )
        if self.wan_enabled:
            self.wan = WanProcess(self.plan, Path(self.base_dir) / "wan", self.matrix)

    def env_for(self, node: NodeProc) -> dict[str, str]:
        env = super().env_for(node)
        if self.wan_enabled:
            env["RAFT_ROUTES"] = self.plan.raft_routes(node.cloud)
        return env

    def start(self) -> WanCluster:
        if self.wan is not None and (self.wan.proc is None or self.wan.proc.poll() is not None):
            self.wan.start()
        super().start()
        return self

    def endpoints_from(self, cloud: str) -> list[str]:
        """CP_ENDPOINTS of a client in `cloud` (own cloud direct, the others through their links)."""
        if not self.wan_enabled:
            return self.endpoints
        return self.plan.cp_endpoints(cloud).split(",")

    def index_of(self, cloud: str) -> int:
        return CLOUDS.index(cloud)

    def partition(self, cloud: str) -> None:
        assert self.wan is not None, "the WAN emulator is off"
        self.wan.control.partition(cloud)

    def heal(self, cloud: str | None = None) -> None:
        assert self.wan is not None, "the WAN emulator is off"
        self.wan.control.heal(cloud)

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.wan is not None:
                self.wan.stop()
