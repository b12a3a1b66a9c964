"""Start a control-plane group as real local processes: for tests, benchmarks and quick experiments.

    python -m control_plane.localcluster   # 3 nodes on 127.0.1.1-127.0.3.1, Ctrl-C stops them

Every node is a real `python -m control_plane` process with its own DATA_DIR, so a test can kill -9
one and restart it from its journal. `close()` kills whatever is still running, whatever happened.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_HOSTS = ("127.0.1.1", "127.0.2.1", "127.0.3.1")
CLOUDS = ("aws", "gcp", "azure")
#: every port a local host may listen on (DESIGN.md): raft, gRPC, CP http, worker http, S3
SERVICE_PORTS = (7000, 50051, 8080, 8081, 9000)


def ports_free(host: str, ports: Sequence[int] = SERVICE_PORTS) -> bool:
    """True when every port can be bound on host right now."""
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def http_json(addr: str, path: str = "/health", timeout: float = 1.0) -> dict[str, Any] | None:
    """GET http://addr/path as JSON; None when nothing (valid) answers."""
    try:
        with urllib.request.urlopen(f"http://{addr}{path}", timeout=timeout) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def poll(pred: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Wait until `pred()` is truthy and return it; TimeoutError naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout}s")
        time.sleep(interval)


def free_hosts(count: int = 3, ports: Sequence[int] = SERVICE_PORTS) -> list[str]:
    """`count` loopback addresses 127.<b>.<c>.1 whose service ports are free.

    Never 127.0.{1,2,3}.1: a developer's local deployment may be running there.
    """
    rng = random.Random()
    for _ in range(200):
        b = rng.randint(10, 250)
        hosts = [f"127.{b}.{c}.1" for c in rng.sample(range(1, 250), count)]
        if all(ports_free(h, ports) for h in hosts):
            return hosts
    raise RuntimeError("no free loopback addresses found")


@dataclass
class NodeProc:
    index: int
    node_id: str
    cloud: str
    host: str
    raft_port: int
    grpc_port: int
    http_port: int
    data_dir: Path
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def raft(self) -> str:
        return f"{self.host}:{self.raft_port}"

    @property
    def grpc(self) -> str:
        return f"{self.host}:{self.grpc_port}"

    @property
    def http(self) -> str:
        return f"{self.host}:{self.http_port}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class LocalCluster:
    base_dir: Path
    hosts: Sequence[str] = DEFAULT_HOSTS
    raft_port: int = 7000
    grpc_port: int = 50051
    http_port: int = 8080
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    password: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    extra_env: Mapping[str, str] = field(default_factory=dict)
    nodes: list[NodeProc] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_dir = Path(self.base_dir)
        self.nodes = [
            NodeProc(
                index=i,
                node_id=f"cp-{CLOUDS[i % 3]}" if len(self.hosts) <= 3 else f"cp-{i}",
                cloud=CLOUDS[i % 3],
                host=h,
                raft_port=self.raft_port,
                grpc_port=self.grpc_port,
                http_port=self.http_port,
                data_dir=self.base_dir / f"node{i}" / "data",
                log_path=self.base_dir / f"node{i}" / "node.log",
            )
            for i, h in enumerate(self.hosts)
        ]

    @property
    def endpoints(self) -> list[str]:
        return [n.grpc for n in self.nodes]

    def env_for(self, node: NodeProc) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            NODE_ID=node.node_id,
            CLOUD=node.cloud,
            RAFT_SELF=node.raft,
            RAFT_PEERS=",".join(n.raft for n in self.nodes),
            RAFT_PASSWORD=self.password,
            GRPC_ADDR=node.grpc,
            HEALTH_ADDR=node.http,
            DATA_DIR=str(node.data_dir),
            AUTH_TOKEN=self.token,
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def start_node(self, index: int) -> NodeProc:
        node = self.nodes[index]
        node.data_dir.mkdir(parents=True, exist_ok=True)
        with open(node.log_path, "ab") as log:
            node.proc = subprocess.Popen(
                [sys.executable, "-m", "control_plane"],
                env=self.env_for(node),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return node

    def start(self) -> LocalCluster:
        for i in range(len(self.nodes)):
            self.start_node(i)
        return self

    def kill(self, index: int, sig: int = signal.SIGKILL, wait: float = 10.0) -> None:
        node = self.nodes[index]
        if node.proc and node.proc.poll() is None:
            node.proc.send_signal(sig)
            try:
                node.proc.wait(wait)
            except subprocess.TimeoutExpired:
                node.proc.kill()
                node.proc.wait()

    def health(self, index: int, timeout: float = 1.0) -> dict[str, Any] | None:
        return http_json(self.nodes[index].http, "/health", timeout)

    def wait_for_leader(self, timeout: float = 10.0, among: Sequence[int] | None = None) -> int:
        """Index of the leader once every live node in `among` reports the same one; raises on timeout."""
        among = list(range(len(self.nodes))) if among is None else list(among)
        deadline = time.monotonic() + timeout
        last: list[Any] = []
        while time.monotonic() < deadline:
            views = [self.health(i) for i in among]
            last = views
            if all(views):
                leaders = {v["leader"] for v in views}  # type: ignore[index]
                if len(leaders) == 1 and "" not in leaders and None not in leaders:
                    leader = leaders.pop()
                    for node in self.nodes:
                        if node.raft == leader and node.index in among:
                            return node.index
            time.sleep(0.05)
        raise TimeoutError(f"no agreed leader among nodes {among} within {timeout}s: {last}")

    def wait_for_commit(self, index: int, commit_index: int, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            h = self.health(index)
            if h and h["commit_index"] >= commit_index and h["last_applied"] >= commit_index:
                return h
            time.sleep(0.05)
        raise TimeoutError(f"node {index} did not reach commit index {commit_index} within {timeout}s")

    def log_tail(self, index: int, lines: int = 20) -> str:
        try:
            return "\n".join(self.nodes[index].log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def close(self) -> None:
        for i in range(len(self.nodes)):
            self.kill(i, signal.SIGTERM, wait=5)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def main() -> None:
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="mcloud-cluster-"))
    cluster = LocalCluster(base).start()
    try:
        leader = cluster.wait_for_leader(15)
        env_file = base / "client.env"
        env_file.write_text(
            f"export CP_ENDPOINTS={','.join(cluster.endpoints)}\nexport AUTH_TOKEN={cluster.token}\n"
        )
        env_file.chmod(0o600)
        print(f"3 nodes up, leader {cluster.nodes[leader].node_id}; logs and data under {base}")
        print(f"client settings (secret, mode 0600): source {env_file}")
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
