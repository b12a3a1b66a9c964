"""Helpers for the local-target integration tests: run `mcloud-tui --headless` against a private state
dir and private loopback addresses, and check that nothing is left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from control_plane.localcluster import SERVICE_PORTS as PORTS
from control_plane.localcluster import free_hosts
from mcloud_tui.ops import localwan, procctl

__all__ = ["LocalTarget", "free_hosts"]

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    rc: int
    out: str
    seconds: float

    def lines(self, prefix: str) -> list[str]:
        return [ln for ln in self.out.splitlines() if ln.startswith(prefix)]


@dataclass
class LocalTarget:
    state_dir: Path
    hosts: list[str]

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        roots = [str(REPO / d) for d in ("tui", "control-plane", "worker")]
        env["PYTHONPATH"] = os.pathsep.join(roots + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        env["MCLOUD_STATE_DIR"] = str(self.state_dir)
        env["MCLOUD_LOCAL_HOSTS"] = ",".join(self.hosts)
        env.pop("MCLOUD_DEPLOYMENT", None)
        env.update(extra)
        return env

    def headless(self, cmd: str, *args: str, timeout: float = 180, **extra: str) -> Run:
        t0 = time.monotonic()
        p = subprocess.run(
            [sys.executable, "-m", "mcloud_tui", "--headless", cmd, "--target", "local", *args],
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
        )
        return Run(p.returncode, p.stdout + p.stderr, time.monotonic() - t0)

    def popen(self, cmd: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "mcloud_tui", "--headless", cmd, "--target", "local"],
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO,
        )

    @property
    def nodes_dir(self) -> Path:
        return self.state_dir / "nodes"

    def pids(self) -> dict[str, int]:
        """{host/service: pid} from the pid files."""
        out = {}
        for pid_file in sorted(self.nodes_dir.glob("*/*/run/*.pid")):
            out[f"{pid_file.parents[1].name}/{pid_file.stem}"] = int(pid_file.read_text())
        return out

    def leftover_processes(self) -> list[int]:
        """Processes whose cwd lies under the state dir (what the role starts)."""
        found = []
        root = self.state_dir.resolve()
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    cwd = Path(os.readlink(proc / "cwd"))
                except OSError:
                    continue
                if (cwd == root or root in cwd.parents) and procctl.cmdline(int(proc.name)):
                    found.append(int(proc.name))
        return found

    def listening(self) -> list[str]:
        """Every service port and every WAN emulator port (links + control) still bound."""
        wan = localwan.ports(dict(zip(("aws", "gcp", "azure"), self.hosts, strict=True)))
        addrs = [(h, p) for h in self.hosts for p in PORTS] + wan
        return [f"{h}:{p}" for h, p in addrs if procctl.port_in_use(h, p)]

    def terraform_state(self) -> list[str]:
        env = self.env(TF_DATA_DIR=str(self.state_dir / "local" / "tf" / "data"))
        if not (self.state_dir / "local" / "tf" / "data").exists():
            return []
        p = subprocess.run(
            ["terraform", f"-chdir={REPO / 'terraform' / 'local'}", "state", "list"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return [ln for ln in p.stdout.splitlines() if ln.strip()]

    def cleanup(self) -> None:
        """Best effort: down, then kill anything left (tests must never leak processes)."""
        try:
            self.headless("down", timeout=120)
        finally:
            if self.nodes_dir.exists():
                procctl.sweep(self.nodes_dir, timeout=3)
