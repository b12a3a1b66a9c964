"""Environment configuration of a control-plane node (names fixed by DESIGN.md).

A missing or malformed variable stops the node at start with one line that names it; `ConfigError`
carries that line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(Exception):
    """A configuration problem, phrased for the operator (one line, names the variable)."""


def parse_hostport(value: str, var: str) -> tuple[str, int]:
    """Split 'host:port', naming `var` when it is malformed."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{var}: expected host:port, got {value!r}")
    return host.strip("[]"), int(port)


def parse_endpoints(value: str, var: str) -> list[str]:
    """A comma list of host:port, validated; order kept."""
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise ConfigError(f"{var}: expected a comma-separated list of host:port, got {value!r}")
    for item in items:
        parse_hostport(item, var)
    return items


def parse_routes(value: str, peers: tuple[str, ...]) -> dict[str, str]:
    """RAFT_ROUTES: `peer=connect,...` — reach `peer` (still called `peer` everywhere) through `connect`."""
    routes: dict[str, str] = {}
    for item in (i.strip() for i in value.split(",") if i.strip()):
        peer, sep, connect = item.partition("=")
        if not sep:
            raise ConfigError(f"RAFT_ROUTES: expected peer=host:port items, got {item!r}")
        parse_hostport(peer, "RAFT_ROUTES")
        parse_hostport(connect, "RAFT_ROUTES")
        if peer.strip() not in peers:
            raise ConfigError(f"RAFT_ROUTES: {peer.strip()!r} is not one of RAFT_PEERS")
        routes[peer.strip()] = connect.strip()
    return routes


def require(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set")
    return value


def env_float(
    env: Mapping[str, str], name: str, default: float, minimum: float = 0.0, maximum: float | None = None
) -> float:
    """An optional numeric variable within [minimum, maximum], naming it when malformed."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a number, got {raw!r}") from None
    if maximum is not None and not minimum <= value <= maximum:
        raise ConfigError(f"{name}: must be between {minimum:g} and {maximum:g}, got {raw!r}")
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum:g}, got {raw!r}")
    return value


@dataclass(frozen=True)
class NodeConfig:
    node_id: str
    cloud: str
    raft_self: str  # the address peers know this node by (a public IP in the cloud)
    raft_peers: tuple[str, ...]
    raft_password: str
    grpc_addr: str
    health_addr: str
    data_dir: Path
    auth_token: str
    tls_cert: str | None = None
    tls_key: str | None = None
    lease_ttl: float = 15.0
    election_min: float = 0.8
    election_max: float = 1.6
    heartbeat: float = 0.1
    leader_fallback: float = 3.0
    raft_bind: str = ""  # where to listen; RAFT_SELF unless the VM does not own that address (cloud NAT)
    # peer -> where to open the TCP connection to it (the local target's WAN links); identity unchanged
    raft_routes: Mapping[str, str] = field(default_factory=dict)

    @property
    def raft_listen(self) -> str:
        return self.raft_bind or self.raft_self

    @property
    def grpc_port(self) -> int:
        return parse_hostport(self.grpc_addr, "GRPC_ADDR")[1]


def load_node_config(env: Mapping[str, str] | None = None) -> NodeConfig:
    """Read and validate the node's environment."""
    env = os.environ if env is None else env
    node_id = require(env, "NODE_ID")
    cloud = require(env, "CLOUD")
    raft_self = require(env, "RAFT_SELF")
    parse_hostport(raft_self, "RAFT_SELF")
    peers = tuple(p for p in parse_endpoints(require(env, "RAFT_PEERS"), "RAFT_PEERS") if p != raft_self)
    if not peers:
        raise ConfigError("RAFT_PEERS: names no node other than RAFT_SELF")
    raft_bind = env.get("RAFT_BIND", "").strip()
    if raft_bind:
        parse_hostport(raft_bind, "RAFT_BIND")
    routes = parse_routes(env.get("RAFT_ROUTES", ""), peers)
    password = require(env, "RAFT_PASSWORD")
    if len(password) < 8:
        raise ConfigError("RAFT_PASSWORD: must be at least 8 characters")
    grpc_addr = env.get("GRPC_ADDR", "").strip() or "0.0.0.0:50051"
    parse_hostport(grpc_addr, "GRPC_ADDR")
    health_addr = env.get("HEALTH_ADDR", "").strip() or "0.0.0.0:8080"
    parse_hostport(health_addr, "HEALTH_ADDR")
    data_dir = Path(require(env, "DATA_DIR"))
    token = require(env, "AUTH_TOKEN")
    tls_cert = env.get("TLS_CERT", "").strip() or None
    tls_key = env.get("TLS_KEY", "").strip() or None
    if bool(tls_cert) != bool(tls_key):
        raise ConfigError("TLS_CERT and TLS_KEY must be set together")
    for var, path in (("TLS_CERT", tls_cert), ("TLS_KEY", tls_key)):
        if path and not Path(path).is_file():
            raise ConfigError(f"{var}: no such file {path!r}")
    election_min = env_float(env, "RAFT_ELECTION_MIN_S", 0.8, 0.05)
    election_max = env_float(env, "RAFT_ELECTION_MAX_S", max(1.6, election_min * 2), election_min)
    return NodeConfig(
        node_id=node_id,
        cloud=cloud,
        raft_self=raft_self,
        raft_peers=peers,
        raft_password=password,
        grpc_addr=grpc_addr,
        health_addr=health_addr,
        data_dir=data_dir,
        auth_token=token,
        tls_cert=tls_cert,
        tls_key=tls_key,
        lease_ttl=env_float(env, "LEASE_TTL_S", 15.0, 0.2),
        election_min=election_min,
        election_max=election_max,
        heartbeat=env_float(env, "RAFT_HEARTBEAT_S", 0.1, 0.01),
        leader_fallback=env_float(env, "RAFT_LEADER_FALLBACK_S", 3.0, 0.5),
        raft_bind=raft_bind,
        raft_routes=routes,
    )
